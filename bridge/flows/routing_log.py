"""Where each related-record update's notes went, and why: kept as data for ``bridge explain``.

Every routing decision is one ``links`` row of kind ``note_routing``:
``from_id`` = the decision's id (deterministic, so a replay adds nothing) and ``to_id`` = the
case's *routing key* (a UUIDv5 of the case's sys_id, not the sys_id itself, so that loading a
case's links for ordinary flows never drags its whole routing history along). ``attrs`` holds
the decision. No table of its own: the core ``links`` table and its migration serve as is.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any

from bridge.flows.context import FlowContext
from bridge.store.unit_of_work import BatchState

KIND = "note_routing"
_NAMESPACE = uuid.UUID("6c1f7d0e-52b4-4b0f-9d0a-3f6f2b8a1c55")

#: rule → why, as the operator reads it in ``bridge explain``
WHY: dict[str, str] = {
    "own_record": "the case's own related record",
    "major_case": "record shared with children: the major case gets the note",
    "synced_to_child": "copied from the major case (sync on, field listed, child open)",
    "sync_off": "not copied from the major case: parent_child_case_sync is off",
    "field_not_listed": "not copied from the major case: field not in case_fields_to_sync",
    "child_closed": "not copied from the major case: the child is Resolved, Closed or Canceled",
    "different_record": "the case has its own, different record of this type",
    "child_own_record": "a child's own record: its notes go to that child only",
    "late_child": "joined the major case after this update (late_children_get_earlier_notes off)",
    "late_child_replayed": "joined the major case later; earlier note replayed",
}


@dataclass(frozen=True, slots=True)
class Decision:
    """One case's outcome for one related-record update."""

    case_id: str
    rule: str
    delivered: bool
    via: str = ""  # the major case the decision went through, if any
    relations: tuple[str, ...] = ()
    notes: tuple[tuple[str, dict[str, str]], ...] = ()
    resolution: dict[str, str] = field(default_factory=dict)


def routing_key(case_id: str) -> str:
    """The ``to_id`` under which a case's routing decisions are stored."""
    return uuid.uuid5(_NAMESPACE, case_id).hex


def record_decision(ctx: FlowContext, decision: Decision, update: dict[str, Any], *id_parts: str) -> None:
    """Store a decision about ``update`` (see :func:`update_facts`)."""
    decision_id = ctx.command_id(KIND, decision.case_id, *id_parts).replace("-", "")
    ctx.state.add_link(
        KIND,
        decision_id,
        routing_key(decision.case_id),
        **update,
        case_id=decision.case_id,
        rule=decision.rule,
        delivered=decision.delivered,
        via=decision.via,
        relations=list(decision.relations),
        notes=[[key, values] for key, values in decision.notes],
        resolution=dict(decision.resolution),
    )
    ctx.state.count(f"note_routing.{decision.rule}")


def update_facts(ctx: FlowContext) -> dict[str, Any]:
    """What identifies the ITSM update being routed."""
    e = ctx.event
    number = e.record_dict().get("number", "")
    return {
        "record_table": e.table,
        "record_sys_id": e.sys_id,
        "record_number": number if isinstance(number, str) else "",
        "sys_mod_count": e.sys_mod_count,
        "event_id": e.event_id,
        "updated_on": str(e.sys_updated_on),
    }


async def batch_decisions(state: BatchState, case_id: str) -> list[dict[str, Any]]:
    """Decisions for a case as this batch sees them: stored ones plus the batch's own."""
    found = {
        from_id: {**attrs, "routed_at": utc_text(created_at)}
        for from_id, attrs, created_at in await state.links_into(KIND, routing_key(case_id))
    }
    return ordered(found)


def utc_text(moment: datetime) -> str:
    """A stored timestamp as ISO text. SQLite hands timestamps back naive: they are UTC (the bridge writes UTC only)."""
    aware = moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)
    return aware.astimezone(timezone.utc).isoformat()


def ordered(found: dict[str, dict[str, Any]]) -> list[dict[str, Any]]:
    """Decisions by id → a list in the order the bridge routed them."""
    items = [{"decision_id": k, **v} for k, v in found.items()]
    return sorted(
        items,
        key=lambda d: (
            d["routed_at"],
            d.get("updated_on", ""),
            d.get("record_sys_id", ""),
            d.get("sys_mod_count", 0),
            d["decision_id"],
        ),
    )
