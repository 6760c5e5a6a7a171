"""How FSM and ITSM records live: their numbers, first states, and the next step a person takes.

``create_record`` is shared by the population (records that exist without a case) and the
responders (records created for bridge commands); ``next_step`` is what technicians, service
desk agents, problem and change managers and fulfillers do, one change at a time.
"""

from __future__ import annotations

import random
from collections.abc import Iterable, Mapping
from typing import Any

from bridgedev.simulate import vocab
from bridgedev.simulate.events import JournalNote
from bridgedev.simulate.world import SimWorld
from connectors.catalog import TABLES

PREFIX = {
    "sn_customerservice_case": "CS",
    "sn_order_case": "ORDCS",
    "customer_account": "ACC",
    "csm_order": "ORD",
    "wm_order": "WO",
    "wm_task": "WOT",
    "incident": "INC",
    "problem": "PRB",
    "change_request": "CHG",
    "sc_request": "REQ",
}
INITIAL_STATE = {
    "wm_order": ("state", "draft"),
    "wm_task": ("state", "draft"),
    "incident": ("state", "1"),
    "problem": ("state", "101"),
    "change_request": ("state", "-5"),
    "sc_request": ("request_state", "requested"),
}
TERMINAL = {
    "wm_order": {"closed_complete", "closed_incomplete", "canceled"},
    "wm_task": {"closed_complete", "closed_incomplete", "canceled"},
    "incident": {"7", "8"},
    "problem": {"107"},
    "change_request": {"3", "4"},
    "sc_request": {"closed_complete", "closed_incomplete", "closed_cancelled", "closed_rejected"},
}
_WORK_ORDER_FLOW = ("draft", "ready_for_dispatch", "assigned", "accepted", "work_in_progress", "closed_complete")
_NORMAL_CHANGE_FLOW = ("-5", "-4", "-3", "-2", "-1", "0", "3")
_STANDARD_CHANGE_FLOW = ("-5", "-2", "-1", "0", "3")

#: A step: changed fields, journal entries, and the user who made the change.
Step = tuple[dict[str, str], list[JournalNote], str]


def create_record(
    world: SimWorld,
    table: str,
    values: Mapping[str, str],
    *,
    by: str,
    sys_id: str | None = None,
    caused_by_command: str | None = None,
    journal: Iterable[JournalNote] = (),
) -> dict[str, Any]:
    """Insert a record with its table's number and first state; tracks FSM/ITSM records as active."""
    fields = dict(values)
    if table in INITIAL_STATE and not fields.get(INITIAL_STATE[table][0]):
        field, first = INITIAL_STATE[table]
        fields[field] = first
    if table in PREFIX and "number" in TABLES[table].fields:
        fields["number"] = world.numbers.next(PREFIX[table])
    sys_id = sys_id or world.ids.sys_id(table, fields.get("number", len(world.store)))
    event = world.events.insert(
        table, sys_id, fields, by=by, label=fields.get("number"), caused_by_command=caused_by_command, journal=journal
    )
    track(world, sys_id)
    return event


def track(world: SimWorld, sys_id: str) -> None:
    """Keep ``world.active`` in step with the record's state (final states leave the set)."""
    table = world.store.table(sys_id)
    if table not in TERMINAL:
        return
    state = world.store.get(sys_id, INITIAL_STATE[table][0])
    if state in TERMINAL[table]:
        world.active[table].discard(sys_id)
    else:
        world.active[table].add(sys_id)


def next_step(world: SimWorld, rng: random.Random, sys_id: str) -> Step:
    """The next thing a person does to an active FSM/ITSM record."""
    table = world.store.table(sys_id)
    state = world.store.get(sys_id, INITIAL_STATE[table][0])
    return _STEPS[table](world, rng, sys_id, state)


def _flow_next(flow: tuple[str, ...], state: str) -> str:
    return flow[min(flow.index(state) + 1, len(flow) - 1)] if state in flow else flow[-1]


def _work_order(world: SimWorld, rng: random.Random, sys_id: str, state: str) -> Step:
    tech = rng.choice(vocab.TECHNICIANS)
    roll = rng.random()
    if roll < 0.2:
        return {}, [("work_notes", rng.choice(vocab.WORK_NOTES))], tech
    if state == "work_in_progress" and roll < 0.3:
        return {"state": "closed_incomplete"}, [("work_notes", "Could not complete: parts missing")], tech
    if roll < 0.23:
        return {"state": "canceled"}, [("work_notes", "Canceled at the customer's request")], "dispatcher"
    return {"state": _flow_next(_WORK_ORDER_FLOW, state)}, [], tech


def _task(world: SimWorld, rng: random.Random, sys_id: str, state: str) -> Step:
    tech = rng.choice(vocab.TECHNICIANS)
    nxt = _flow_next(_WORK_ORDER_FLOW, state)
    fields = {"state": nxt}
    if nxt == "closed_complete":
        fields["actual_end"] = world.clock.now()
    return fields, [("work_notes", rng.choice(vocab.WORK_NOTES))] if rng.random() < 0.3 else [], tech


def _incident(world: SimWorld, rng: random.Random, sys_id: str, state: str) -> Step:
    user = rng.choice(vocab.ITIL_USERS)
    if rng.random() < 0.2:
        return {}, [("comments", rng.choice(vocab.COMMENTS))], user
    if state == "1":
        return {"state": "2"}, [], user
    if state == "2":
        if rng.random() < 0.4:
            return {"state": "3", "hold_reason": rng.choice(vocab.INCIDENT_HOLD_REASONS)}, [], user
        return (
            {
                "state": "6",
                "close_code": rng.choice(vocab.INCIDENT_CLOSE_CODES),
                "close_notes": "Root cause fixed; monitored for 24h",
            },
            [],
            user,
        )
    if state == "3":
        return {"state": "2", "hold_reason": ""}, [("work_notes", "Vendor responded")], user
    return {"state": "7"}, [], user  # resolved → closed


def _problem(world: SimWorld, rng: random.Random, sys_id: str, state: str) -> Step:
    user = rng.choice(vocab.PROBLEM_MANAGERS)
    if state in ("101", "102"):
        if rng.random() < 0.05:
            return {"state": "107", "resolution_code": "duplicate", "close_notes": "Duplicate"}, [], user
        return {"state": str(int(state) + 1)}, [], user
    if state == "103":
        if not world.store.get(sys_id, "cause_notes"):
            return {"cause_notes": "Firmware regression in 4.2"}, [], user
        if not world.store.get(sys_id, "workaround"):
            return {"workaround": "Power-cycle the device before large jobs"}, [], user
        if rng.random() < 0.1:
            return {"state": "106", "resolution_code": "risk_accepted"}, [], user
        return {"state": "104"}, [], user
    if state == "104":
        if not world.store.get(sys_id, "fix_notes"):
            return {"fix_notes": "Firmware 4.3 deployed to the fleet"}, [], user
        return {"state": "106", "resolution_code": "fix_applied"}, [], user
    return {"state": "107", "close_notes": "Closed after confirmation"}, [], user


def _change(world: SimWorld, rng: random.Random, sys_id: str, state: str) -> Step:
    user = rng.choice(vocab.CHANGE_MANAGERS)
    if world.store.get(sys_id, "on_hold") == "true":
        return {"on_hold": "false", "on_hold_reason": ""}, [("work_notes", "Released")], user
    if state in ("-2", "-1") and rng.random() < 0.2:
        return {"on_hold": "true", "on_hold_reason": rng.choice(vocab.CHANGE_HOLD_REASONS)}, [], user
    if rng.random() < 0.03:
        return {"state": "4"}, [("work_notes", "Canceled by the requester")], user
    standard = world.store.get(sys_id, "type") == "standard"
    nxt = _flow_next(_STANDARD_CHANGE_FLOW if standard else _NORMAL_CHANGE_FLOW, state)
    if nxt == "3":
        code = rng.choices(("successful", "successful_issues", "unsuccessful"), (8, 1, 1))[0]
        return {"state": "3", "close_code": code, "close_notes": "Implemented as planned"}, [], user
    return {"state": nxt}, [], user


def _request(world: SimWorld, rng: random.Random, sys_id: str, state: str) -> Step:
    user = rng.choice(vocab.FULFILLERS)
    if state == "requested":
        return {"request_state": "in_process"}, [], user
    final = rng.choices(("closed_complete", "closed_incomplete", "closed_cancelled", "closed_rejected"), (7, 1, 1, 1))[
        0
    ]
    notes = [("comments", "Your request has been fulfilled")] if final == "closed_complete" else []
    return {"request_state": final}, notes, user


_STEPS = {
    "wm_order": _work_order,
    "wm_task": _task,
    "incident": _incident,
    "problem": _problem,
    "change_request": _change,
    "sc_request": _request,
}
