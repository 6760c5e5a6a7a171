"""Major and child cases, as CSM reports them (rule R7 and the bridge's half of MIM).

CSM creates major cases and sets children's ``parent``; the bridge learns the structure from the
case events (``major_case_state`` = accepted, ``parent``) and does the cross-system part:

* a candidate (``major_case_state`` = proposed) that joins a major case has its related-record
  fields copied to the major case once it is known as accepted — one CSM update, only the fields
  the major case does not hold yet — and from the moment it joins, its related records are
  read-only: ``create_*`` actions on it are refused (see ``related_records``);
* an ordinary case added as a child (never a candidate) keeps its own records;
* a child that joins later gets the major case's earlier notes only if the mappings say so
  (``late_children``).

Acceptance is recognised whatever order its changes arrive in. The contract orders no two
records, so the candidate's ``parent`` may name a major case the bridge has not seen yet; and CSM
may clear ``major_case_state`` and set ``parent`` in separate updates, in either order. So a
proposal is remembered (link ``major_candidate``) until the case joins a major case or stops
being a candidate (rejected, canceled, accepted itself); the copy happens when both "candidate
joined" and "major accepted" are known, whichever arrives last, and once only.
"""

from __future__ import annotations

from bridge.flows import Route, late_children
from bridge.flows.case_structure import children_of, is_major
from bridge.flows.context import FlowContext
from bridge.flows.related_kinds import (
    CANDIDATE,
    CANDIDATE_OF,
    CHILD_LOCKED,
    MAJOR_CHILD,
    NOT_A_CANDIDATE,
    PROPOSED,
    RELATED_FIELDS,
    related_kind,
)
from bridge.store.unit_of_work import StoredRecord
from connectors.catalog import CASE_TABLE
from connectors.csm import commands as csm

RULE_COPY = "major_case_copy"


async def track_structure(ctx: FlowContext) -> None:
    """Keep the major → child links, and act when a child joins or a major is accepted."""
    case = await ctx.state.record(ctx.event.sys_id)
    if case is None:
        return
    previous = ctx.previous
    parent = case.ref("parent")
    parent = parent if parent != case.sys_id else None
    old_parent = previous.ref("parent") if previous is not None else None
    if old_parent and old_parent != parent:
        ctx.state.remove_link(MAJOR_CHILD, old_parent, case.sys_id)
    candidate = await _candidacy(ctx, case, previous, joining=parent is not None)
    if parent:
        if candidate:
            ctx.state.add_link(CANDIDATE_OF, case.sys_id, parent)
        joined = ctx.state.add_link(MAJOR_CHILD, parent, case.sys_id)
        major = await ctx.state.record(parent)
        if major is not None and is_major(major):
            await accept_candidate(ctx, case, major)
            if joined:
                await late_children.child_joined(ctx, case, major)
    if is_major(case) and not is_major(previous):
        for child in await children_of(ctx.state, case.sys_id):
            await accept_candidate(ctx, child, case)


async def _candidacy(ctx: FlowContext, case: StoredRecord, previous: StoredRecord | None, *, joining: bool) -> bool:
    """Whether the case is a candidate now: proposed, or proposed before and only cleared since
    (CSM may clear ``major_case_state`` before it sets ``parent``). The proposal is remembered
    until the case joins a major case or stops being a candidate."""
    state = case.text("major_case_state")
    remembered = bool(await ctx.state.linked(CANDIDATE, case.sys_id))
    was_proposed = previous is not None and previous.text("major_case_state") == PROPOSED
    candidate = state == PROPOSED or (state not in NOT_A_CANDIDATE and (remembered or was_proposed))
    if candidate and not joining:
        ctx.state.add_link(CANDIDATE, case.sys_id, case.sys_id)
    elif remembered:
        ctx.state.remove_link(CANDIDATE, case.sys_id, case.sys_id)
    return candidate


async def _held(ctx: FlowContext, case: StoredRecord, relation: str) -> str:
    linked = await ctx.state.linked(related_kind(relation), case.sys_id)
    return case.ref(relation) or (linked[0] if linked else "")


async def accept_candidate(ctx: FlowContext, child: StoredRecord, major: StoredRecord) -> None:
    """Copy an accepted candidate's related fields to its (accepted) major case, once."""
    if major.sys_id not in await ctx.state.linked(CANDIDATE_OF, child.sys_id):
        return  # an ordinary case added as a child keeps its own records to itself
    if not ctx.state.add_link(CHILD_LOCKED, child.sys_id, major.sys_id):
        return  # copied before
    fields = {}
    for relation in RELATED_FIELDS:
        record_id = await _held(ctx, child, relation)
        if record_id and not await _held(ctx, major, relation):
            fields[relation] = record_id
            ctx.state.add_link(related_kind(relation), major.sys_id, record_id)
    if fields:
        ctx.emit(
            csm.update(
                major.table,
                major.sys_id,
                fields,
                command_id=ctx.command_id(RULE_COPY, major.sys_id, child.sys_id),
                caused_by=ctx.caused_by,
            ),
            rule=RULE_COPY,
        )


ROUTES = [Route(CASE_TABLE, ("insert", "update"), track_structure)]
