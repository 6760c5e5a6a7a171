"""ITSM updates → case work notes (rule R5), routed across major and child cases (R6), plus the
resolution code the update earns (R9).

The content per type follows the CSM/ITSM integration (seed 002, reference §1.2): incident state
changes (the hold reason when On Hold), resolve/close (close code and notes), comments; problem
state changes, workaround and fix communicated, closing text by resolution code; change state and
type changes, hold and release, closing, comments; request state changes, closing, comments.
Templates and labels are the mappings' (``notes.yaml``).
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any, Callable

from bridge.flows import Route
from bridge.flows.context import FlowContext
from bridge.flows.note_routing import route_update
from bridge.flows.related_kinds import ITSM_TABLES
from bridge.flows.resolution import apply_resolution, resolution_for
from bridge.flows.routing_log import record_decision, update_facts
from bridge.store.unit_of_work import StoredRecord
from connectors.common import Event
from connectors.common.values import text

RULE_NOTE = "related_record_note"
Note = tuple[str, dict[str, str]]


def _state_change(event: Event, previous: StoredRecord | None, field: str = "state") -> tuple[str, str] | None:
    new = text(event.record_dict(), field)
    old = previous.text(field) if previous is not None else ""
    return (old, new) if field in event.changed_fields and new != old else None


def _comments(event: Event, family: str, number: str) -> list[Note]:
    return [
        (f"{family}.comment", {"number": number, "author": e.sys_created_by, "text": e.value})
        for e in event.journal
        if e.element == "comments"
    ]


def incident_notes(event: Event, previous: StoredRecord | None) -> list[Note]:
    rec = event.record_dict()
    number, notes = text(rec, "number"), []
    change = _state_change(event, previous)
    if change and change[1] in ("6", "7"):
        notes.append(
            (
                "incident.resolved",
                {
                    "number": number,
                    "state": change[1],
                    "close_code": text(rec, "close_code"),
                    "close_notes": text(rec, "close_notes"),
                },
            )
        )
    elif change or (text(rec, "state") == "3" and "hold_reason" in event.changed_fields):
        old, new = change or (text(rec, "state"), text(rec, "state"))
        notes.append(
            (
                "incident.state_changed",
                {
                    "number": number,
                    "old_state": old,
                    "new_state": new,
                    "hold_reason": text(rec, "hold_reason") if new == "3" else "",
                },
            )
        )
    return notes + _comments(event, "incident", number)


_PROBLEM_CLOSING = {
    "fix_applied": ("problem.closed.fix_applied", ("cause_notes", "fix_notes")),
    "risk_accepted": ("problem.closed.risk_accepted", ("cause_notes", "close_notes", "fix_notes")),
    "canceled": ("problem.closed.canceled", ("close_notes",)),
}


def problem_notes(event: Event, previous: StoredRecord | None) -> list[Note]:
    rec = event.record_dict()
    number, notes = text(rec, "number"), []
    change = _state_change(event, previous)
    closing = _PROBLEM_CLOSING.get(text(rec, "resolution_code")) if change and change[1] in ("106", "107") else None
    if closing:
        key, fields = closing
        notes.append((key, {"number": number, **{f: text(rec, f) for f in fields}}))
    elif change:
        notes.append(("problem.state_changed", {"number": number, "new_state": change[1]}))
    if "workaround" in event.changed_fields and text(rec, "workaround"):
        notes.append(("problem.workaround", {"number": number, "workaround": text(rec, "workaround")}))
    if "fix_notes" in event.changed_fields and text(rec, "fix_notes") and not closing:
        notes.append(("problem.fix", {"number": number, "fix_notes": text(rec, "fix_notes")}))
    return notes


def change_notes(event: Event, previous: StoredRecord | None) -> list[Note]:
    rec = event.record_dict()
    number, notes = text(rec, "number"), []
    change = _state_change(event, previous)
    if change and change[1] == "3":
        notes.append(
            (
                "change.closed",
                {"number": number, "close_code": text(rec, "close_code"), "close_notes": text(rec, "close_notes")},
            )
        )
    elif change:
        notes.append(("change.state_changed", {"number": number, "old_state": change[0], "new_state": change[1]}))
    if _state_change(event, previous, "type"):
        notes.append(("change.type_changed", {"number": number, "type": text(rec, "type")}))
    hold = _state_change(event, previous, "on_hold")
    if hold and hold[1] == "true":
        notes.append(("change.on_hold", {"number": number, "on_hold_reason": text(rec, "on_hold_reason")}))
    elif hold and hold[0] == "true":
        notes.append(("change.hold_released", {"number": number}))
    return notes + _comments(event, "change", number)


def request_notes(event: Event, previous: StoredRecord | None) -> list[Note]:
    rec = event.record_dict()
    number, notes = text(rec, "number"), []
    change = _state_change(event, previous, "request_state")
    if change:
        key = "request.closed" if change[1].startswith("closed_") else "request.state_changed"
        notes.append((key, {"number": number, "new_state": change[1]}))
    return notes + _comments(event, "request", number)


NOTES_BY_TABLE: dict[str, Callable[[Event, StoredRecord | None], list[Note]]] = {
    "incident": incident_notes,
    "problem": problem_notes,
    "change_request": change_notes,
    "sc_request": request_notes,
}


async def route_related_update(ctx: FlowContext) -> None:
    """Send an ITSM update's notes to the cases the routing rules choose; log every decision."""
    event = ctx.event
    routing = await route_update(ctx.state, ctx.mappings.routing, event.table, event.sys_id)
    if not routing.deliveries and not routing.skipped:
        ctx.filtered("unlinked", "no case holds this record")
        return
    notes = NOTES_BY_TABLE[event.table](event, ctx.previous)
    found = resolution_for(event, ctx.previous)
    if not notes and found is None:
        ctx.filtered("no_news", "nothing in this update is reported to cases")
        return
    facts: dict[str, Any] = update_facts(ctx)
    for case, decision in routing.deliveries:
        for i, (key, values) in enumerate(notes):
            ctx.note(case.table, case.sys_id, key, values, rule=RULE_NOTE, id_parts=(str(i),))
        done = (
            {}
            if found is None
            else await apply_resolution(ctx, case, found, may_propose=decision.rule != "synced_to_child")
        )
        record_decision(ctx, replace(decision, notes=tuple(notes), resolution=done), facts)
    for decision in routing.skipped:
        record_decision(ctx, replace(decision, notes=tuple(notes)), facts)
    ctx.detail = f"notes to {len(routing.deliveries)} case(s)"


ROUTES = [Route(table, ("update",), route_related_update) for table in ITSM_TABLES]
