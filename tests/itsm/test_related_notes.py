"""What an ITSM update writes on the case it belongs to, per record type."""

from __future__ import annotations

from typing import Any

import pytest

from tests.fixtures.events import new_sys_id
from tests.itsm.events import case, case_update, itsm
from tests.itsm.harness import ItsmHarness, notes


async def holding(h: ItsmHarness, relation: str, table: str, **record: Any) -> tuple[str, str]:
    """A case whose ``relation`` is a known ITSM record; returns (case id, record id)."""
    record_id = new_sys_id()
    c = case(mod=1)
    await h.run(c, case_update(c, **{relation: record_id}), itsm(table, record_id, 1, operation="insert", **record))
    return c["sys_id"], record_id


async def texts(h: ItsmHarness, *events: dict[str, Any]) -> list[str]:
    return [text for _, text in notes(await h.run(*events))]


async def test_incident_state_hold_resolution_and_comments(h: ItsmHarness) -> None:
    case_id, inc = await holding(h, "incident", "incident")
    assert await texts(
        h,
        itsm(
            "incident",
            inc,
            2,
            changed=("state",),
            state="3",
            hold_reason="Awaiting Vendor",
            comments=("Vendor ticket opened",),
        ),
    ) == [
        "Incident INC0012001 is On Hold (Awaiting Vendor)",
        "Incident INC0012001, comment from itil.user:\nVendor ticket opened",
    ]
    assert await texts(
        h, itsm("incident", inc, 3, changed=("hold_reason",), state="3", hold_reason="Awaiting Caller")
    ) == ["Incident INC0012001 is On Hold (Awaiting Caller)"]
    assert await texts(h, itsm("incident", inc, 4, changed=("state",), state="2")) == [
        "Incident INC0012001 is In Progress"
    ]
    assert await texts(h, itsm("incident", inc, 5, changed=("priority",), state="2")) == []
    resolved = await texts(
        h,
        itsm(
            "incident",
            inc,
            6,
            changed=("state", "close_code"),
            state="6",
            close_code="Solved (Permanently)",
            close_notes="Firmware 4.3",
        ),
    )
    assert resolved[0] == (
        "Incident INC0012001 is Resolved. Resolution code: Solved (Permanently). Resolution notes: Firmware 4.3"
    )


async def test_problem_state_workaround_fix_and_closing_texts(h: ItsmHarness) -> None:
    _, prb = await holding(h, "problem", "problem")
    assert await texts(h, itsm("problem", prb, 2, changed=("state",), state="103")) == [
        "Problem PRB0004001 is Root Cause Analysis"
    ]
    assert (
        await texts(h, itsm("problem", prb, 3, changed=("workaround",), state="103", workaround="Power-cycle first"))
    )[0] == "Workaround for problem PRB0004001:\nPower-cycle first"
    assert await texts(h, itsm("problem", prb, 4, changed=("fix_notes",), state="104", fix_notes="Firmware 4.3")) == [
        "Fix for problem PRB0004001:\nFirmware 4.3"
    ]


@pytest.mark.parametrize(
    ("code", "expected"),
    [
        ("fix_applied", "Problem PRB0004001 is closed, fix applied.\nCause: Bad firmware\nFix: 4.3"),
        ("risk_accepted", "Problem PRB0004001 is closed, risk accepted: Too costly\nCause: Bad firmware\nFix: 4.3"),
        ("canceled", "Problem PRB0004001 is canceled: Too costly"),
        ("duplicate", "Problem PRB0004001 is Closed"),
    ],
)
async def test_problem_closing_text_follows_the_resolution_code(h: ItsmHarness, code: str, expected: str) -> None:
    _, prb = await holding(h, "problem", "problem")
    closing = itsm(
        "problem",
        prb,
        2,
        changed=("state", "resolution_code"),
        state="107",
        resolution_code=code,
        cause_notes="Bad firmware",
        fix_notes="4.3",
        close_notes="Too costly",
    )
    assert (await texts(h, closing))[0] == expected


async def test_change_state_type_hold_and_closing(h: ItsmHarness) -> None:
    _, chg = await holding(h, "change", "change_request")
    assert await texts(h, itsm("change_request", chg, 2, changed=("state",), state="-4")) == [
        "Change CHG0003001: New → Assess"
    ]
    assert await texts(h, itsm("change_request", chg, 3, changed=("type",), state="-4", type="emergency")) == [
        "Change CHG0003001 type is now: emergency"
    ]
    assert await texts(
        h,
        itsm(
            "change_request",
            chg,
            4,
            changed=("on_hold", "on_hold_reason"),
            state="-4",
            type="emergency",
            on_hold="true",
            on_hold_reason="Awaiting parts",
        ),
    ) == ["Change CHG0003001 is on hold (Awaiting parts)"]
    assert await texts(
        h,
        itsm("change_request", chg, 5, changed=("on_hold",), state="-4", type="emergency", comments=("Parts arrived",)),
    ) == ["Change CHG0003001 is no longer on hold", "Change CHG0003001, comment from itil.user:\nParts arrived"]
    closed = await texts(
        h,
        itsm(
            "change_request",
            chg,
            6,
            changed=("state", "close_code"),
            state="3",
            close_code="unsuccessful",
            close_notes="Rolled back",
        ),
    )
    assert closed == ["Change CHG0003001 is closed (Unsuccessful): Rolled back"]


async def test_caused_by_change_reaches_the_case_once(h: ItsmHarness) -> None:
    chg = new_sys_id()
    c = case(mod=1)
    await h.run(
        c, case_update(c, change=chg, caused_by=chg), itsm("change_request", chg, 1, operation="insert", state="-2")
    )
    assert notes(await h.run(itsm("change_request", chg, 2, changed=("state",), state="-1"))) == [
        (c["sys_id"], "Change CHG0003001: Scheduled → Implement")
    ]


async def test_request_state_closing_and_comments(h: ItsmHarness) -> None:
    req = new_sys_id()
    c = case(mod=1)
    await h.run(c, itsm("sc_request", req, 0, operation="insert", parent=c["sys_id"]))
    assert await texts(
        h,
        itsm(
            "sc_request",
            req,
            1,
            changed=("request_state",),
            request_state="in_process",
            parent=c["sys_id"],
            comments=("Shipped",),
        ),
    ) == ["Request REQ0002001 is In Process", "Request REQ0002001, comment from itil.user:\nShipped"]
    assert await texts(
        h, itsm("sc_request", req, 2, changed=("request_state",), request_state="closed_rejected", parent=c["sys_id"])
    ) == ["Request REQ0002001 is closed: Closed Rejected"]
