"""Resolution codes from related records' end states: suggested by default, proposed on demand."""

from __future__ import annotations

from typing import Any

import pytest

from tests.fixtures.events import new_sys_id, ref
from tests.itsm.events import case, case_update, itsm
from tests.itsm.harness import ItsmHarness, notes

FIXED_PRB = "Solved – Fixed by closing related PRB"
WORKAROUND = "Solved – Workaround provided based on open PRB"
FIXED_CHG = "Solved – Fixed by closing related Change Request"
FIXED_INC = "Solved – Fixed by closing related Incident"
REQ_DONE = "Solved – Related Request is Closed Complete"

# (relation, table, record before, the end-state update's fields and changed fields, code, notes)
ENDS = [
    (
        "problem",
        "problem",
        {"state": "104"},
        {"state": "106", "resolution_code": "fix_applied", "fix_notes": "Firmware 4.3"},
        ("state", "resolution_code"),
        FIXED_PRB,
        "Firmware 4.3",
    ),
    (
        "problem",
        "problem",
        {"state": "106", "resolution_code": "fix_applied"},
        {"state": "107", "resolution_code": "fix_applied", "close_notes": "Deployed"},
        ("state",),
        None,
        None,
    ),  # already resolved: the code was given then
    (
        "problem",
        "problem",
        {"state": "103"},
        {"state": "103", "workaround": "Power-cycle first"},
        ("workaround",),
        WORKAROUND,
        "Power-cycle first",
    ),
    (
        "change",
        "change_request",
        {"state": "0"},
        {"state": "3", "close_code": "successful", "close_notes": "Rolled out"},
        ("state", "close_code"),
        FIXED_CHG,
        "Rolled out",
    ),
    (
        "change",
        "change_request",
        {"state": "0"},
        {"state": "3", "close_code": "successful_issues", "close_notes": "Rolled out, slowly"},
        ("state", "close_code"),
        FIXED_CHG,
        "Rolled out, slowly",
    ),
    (
        "incident",
        "incident",
        {"state": "2"},
        {"state": "6", "close_code": "Solved (Permanently)", "close_notes": "Firmware 4.3"},
        ("state",),
        FIXED_INC,
        "Firmware 4.3",
    ),
    (
        "incident",
        "incident",
        {"state": "3"},
        {"state": "7", "close_code": "Solved (Work Around)", "close_notes": "Reboot"},
        ("state",),
        FIXED_INC,
        "Reboot",
    ),
    (
        "request",
        "sc_request",
        {"request_state": "in_process"},
        {"request_state": "closed_complete"},
        ("request_state",),
        REQ_DONE,
        "Request REQ0002001 is Closed Complete",
    ),
]
NEGATIVE_ENDS = [
    (
        "problem",
        "problem",
        {"state": "104"},
        {"state": "107", "resolution_code": "risk_accepted"},
        ("state",),
        None,
        None,
    ),
    ("problem", "problem", {"state": "104"}, {"state": "107", "resolution_code": "canceled"}, ("state",), None, None),
    ("problem", "problem", {"state": "104"}, {"state": "107", "resolution_code": "duplicate"}, ("state",), None, None),
    (
        "problem",
        "problem",
        {"state": "107", "resolution_code": "canceled"},
        {"state": "107", "workaround": "Too late"},
        ("workaround",),
        None,
        None,
    ),
    ("change", "change_request", {"state": "0"}, {"state": "3", "close_code": "unsuccessful"}, ("state",), None, None),
    ("change", "change_request", {"state": "-1"}, {"state": "4"}, ("state",), None, None),
    ("incident", "incident", {"state": "2"}, {"state": "8"}, ("state",), None, None),
    ("incident", "incident", {"state": "2"}, {"state": "7", "close_code": "Duplicate"}, ("state",), None, None),
    (
        "request",
        "sc_request",
        {"request_state": "in_process"},
        {"request_state": "closed_cancelled"},
        ("request_state",),
        None,
        None,
    ),
    (
        "request",
        "sc_request",
        {"request_state": "in_process"},
        {"request_state": "closed_incomplete"},
        ("request_state",),
        None,
        None,
    ),
]


async def case_holding(
    h: ItsmHarness, relation: str, table: str, before: dict[str, str], **case_fields: Any
) -> tuple[dict[str, Any], str]:
    record_id = new_sys_id()
    c = case(mod=1, **case_fields)
    if relation == "request":
        before = {**before, "parent": c["sys_id"]}
        await h.run(c)
    else:
        await h.run(c, case_update(c, **{relation: record_id}))
    await h.run(itsm(table, record_id, 1, operation="insert", **before))
    return c, record_id


def end_event(
    relation: str, table: str, record_id: str, fields: dict[str, str], changed: tuple[str, ...], case_id: str
) -> dict[str, Any]:
    if relation == "request":
        fields = {**fields, "parent": case_id}
    return itsm(table, record_id, 2, changed=changed, **fields)


@pytest.mark.parametrize(("relation", "table", "before", "fields", "changed", "code", "close"), ENDS + NEGATIVE_ENDS)
async def test_suggest_mode_writes_the_code_in_a_note_and_leaves_the_case(
    make_harness: Any,
    relation: str,
    table: str,
    before: dict[str, str],
    fields: dict[str, str],
    changed: tuple[str, ...],
    code: str | None,
    close: str | None,
) -> None:
    h = await make_harness()
    c, record_id = await case_holding(h, relation, table, before)
    commands = await h.run(end_event(relation, table, record_id, fields, changed, c["sys_id"]))
    assert all(cmd["fields"] == {} for cmd in commands)  # the case state is untouched
    suggested = [text for _, text in notes(commands) if text.startswith("Suggested resolution")]
    number = {"incident": "INC0012001", "problem": "PRB0004001", "change": "CHG0003001", "request": "REQ0002001"}[
        relation
    ]
    assert suggested == ([f"Suggested resolution code: {code} (from {number})"] if code else [])


@pytest.mark.parametrize(("relation", "table", "before", "fields", "changed", "code", "close"), ENDS + NEGATIVE_ENDS)
async def test_propose_mode_resolves_the_case_with_the_code_and_close_notes(
    make_harness: Any,
    relation: str,
    table: str,
    before: dict[str, str],
    fields: dict[str, str],
    changed: tuple[str, ...],
    code: str | None,
    close: str | None,
) -> None:
    h = await make_harness(resolution_mode="propose")
    c, record_id = await case_holding(h, relation, table, before)
    commands = await h.run(end_event(relation, table, record_id, fields, changed, c["sys_id"]))
    proposals = [cmd for cmd in commands if cmd["fields"]]
    assert not any(t.startswith("Suggested") for _, t in notes(commands))
    if code is None:
        assert proposals == []
        return
    [proposal] = proposals
    assert (proposal["table"], proposal["sys_id"], proposal["journal"]) == (c["table"], c["sys_id"], [])
    assert proposal["fields"] == {"state": "6", "resolution_code": code, "close_notes": close}


async def test_a_resolved_case_gets_no_proposal(make_harness: Any) -> None:
    h = await make_harness(resolution_mode="propose")
    c, inc = await case_holding(h, "incident", "incident", {"state": "2"}, state="6")
    commands = await h.run(itsm("incident", inc, 2, changed=("state",), state="7"))
    assert [cmd["fields"] for cmd in commands] == [{}]  # the closing note only


async def order_case_with_lines(h: ItsmHarness, *line_states: str) -> tuple[dict[str, Any], str]:
    inc = new_sys_id()
    oc = case(mod=1, table="sn_order_case", number="ORDCS0001001")
    lines = []
    for state in line_states:
        line = case(table="sn_order_case_line")
        line["record"] = {"parent": ref(oc["sys_id"]), "order_line_item": "", "state": state}
        lines.append(line)
    await h.run(oc, case_update(oc, incident=inc), *lines, itsm("incident", inc, 1, operation="insert"))
    return oc, inc


async def test_an_order_case_with_an_open_line_is_only_suggested_with_the_reason(make_harness: Any) -> None:
    h = await make_harness(resolution_mode="propose")
    oc, inc = await order_case_with_lines(h, "resolved_accepted", "work_in_progress")
    commands = await h.run(itsm("incident", inc, 2, changed=("state",), state="6", close_notes="Fixed"))
    assert all(cmd["fields"] == {} and cmd["table"] == "sn_order_case" for cmd in commands)
    assert [t for _, t in notes(commands)][1:] == [
        "The bridge did not run 'propose resolution': 1 order case line(s) still open",
        f"Suggested resolution code: {FIXED_INC} (from INC0012001)",
    ]


async def test_an_order_case_whose_lines_are_all_done_is_proposed(make_harness: Any) -> None:
    h = await make_harness(resolution_mode="propose")
    oc, inc = await order_case_with_lines(h, "resolved_accepted", "resolved_denied", "cancelled")
    commands = await h.run(itsm("incident", inc, 2, changed=("state",), state="6", close_notes="Fixed"))
    [proposal] = [cmd for cmd in commands if cmd["fields"]]
    assert proposal["table"] == "sn_order_case" and proposal["fields"] == {
        "state": "6",
        "resolution_code": FIXED_INC,
        "close_notes": "Fixed",
    }
