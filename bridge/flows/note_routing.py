"""Which cases get the notes of one related-record update (rules R5 and R6).

* A case whose related record it is gets the notes — unless it is a child of an accepted major
  case that holds the same record: then the major case gets them.
* The major case's note is copied to a child only when ``parent_child_case_sync`` is on, the
  relation (``incident``, ``problem``, ``change``, ``caused_by``) is in ``case_fields_to_sync``
  and the child is not Resolved, Closed or Canceled.
* A child with its own, different record of the same type never gets the major's notes, and its
  own record's notes never reach the major case or the other children.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

from bridge.flows.case_structure import accepted_major, children_of, is_major
from bridge.flows.related_kinds import (
    CASE_DONE_STATES,
    RELATIONS_OF_TABLE,
    REQUEST,
    related_kind,
)
from bridge.flows.routing_log import Decision
from bridge.store.unit_of_work import BatchState, StoredRecord


@dataclass(slots=True)
class Routing:
    """The cases that get the update's notes, and the decisions for those that do not."""

    deliveries: list[tuple[StoredRecord, Decision]] = field(default_factory=list)
    skipped: list[Decision] = field(default_factory=list)


def sync_gate(policy: Any, relations: tuple[str, ...], child: StoredRecord) -> str | None:
    """Why a major case's note is not copied to ``child`` (a rule name), or None to copy it."""
    if not policy.parent_child_case_sync:
        return "sync_off"
    if not any(relation in policy.case_fields_to_sync for relation in relations):
        return "field_not_listed"
    if child.text("state") in CASE_DONE_STATES:
        return "child_closed"
    return None


async def holders(state: BatchState, table: str, record_id: str) -> dict[str, tuple[str, ...]]:
    """Cases holding the record → the relations through which they hold it."""
    found: dict[str, list[str]] = defaultdict(list)
    for relation in RELATIONS_OF_TABLE.get(table, ()):
        for case_id in await state.linked_to(related_kind(relation), record_id):
            found[case_id].append(relation)
    return {case_id: tuple(relations) for case_id, relations in sorted(found.items())}


async def route_update(state: BatchState, policy: Any, table: str, record_id: str) -> Routing:
    """Decide, for every case concerned, whether it gets the notes of this update."""
    routing = Routing()
    cases = {}
    by_case = await holders(state, table, record_id)
    await state.load(list(by_case))
    for case_id in by_case:
        case = await state.record(case_id)
        if case is not None and not case.deleted:
            cases[case_id] = case
    for case_id, case in cases.items():
        major = await accepted_major(state, case)
        if major is not None and major.sys_id in cases:
            continue  # shared with its major case: decided below, as the major's child
        children = await children_of(state, case_id) if is_major(case) else []
        rule = "major_case" if children else "own_record"
        routing.deliveries.append((case, Decision(case_id, rule, True, relations=by_case[case_id])))
        if major is not None:
            routing.skipped.append(
                Decision(major.sys_id, "child_own_record", False, via=case_id, relations=by_case[case_id])
            )
        for child in children:
            routing_for_child = await _child_decision(state, policy, child, case_id, by_case[case_id], record_id)
            if routing_for_child.delivered:
                routing.deliveries.append((child, routing_for_child))
            else:
                routing.skipped.append(routing_for_child)
    return routing


async def _child_decision(
    state: BatchState, policy: Any, child: StoredRecord, major_id: str, relations: tuple[str, ...], record_id: str
) -> Decision:
    for relation in relations:
        if relation == REQUEST:
            continue  # a case may hold any number of requests: none is "different"
        own = await state.linked(related_kind(relation), child.sys_id)
        if own and record_id not in own:
            return Decision(child.sys_id, "different_record", False, via=major_id, relations=relations)
    blocked = sync_gate(policy, relations, child)
    return Decision(child.sys_id, blocked or "synced_to_child", blocked is None, via=major_id, relations=relations)
