"""Major and child cases: who gets a related record's notes, candidate acceptance, late children."""

from __future__ import annotations

from typing import Any

import pytest

from bridge.ops.explain import explain_case
from tests.fixtures.events import new_sys_id
from tests.itsm.events import action, case, case_update, itsm
from tests.itsm.harness import ItsmHarness, notes

SYNC_INCIDENT = ["priority", "state", "close_notes", "resolution_code", "incident", "problem"]


def major(**fields: Any) -> dict[str, Any]:
    return case(mod=1, major_case_state="accepted", account="", contact="", **fields)


def child(of: dict[str, Any], **fields: Any) -> dict[str, Any]:
    return case(mod=1, parent=of["sys_id"], **fields)


def inc_update(inc: str, mod: int = 2) -> dict[str, Any]:
    return itsm("incident", inc, mod, changed=("state",), state="2")


async def recipients(h: ItsmHarness, event: dict[str, Any]) -> list[str]:
    return sorted(case_id for case_id, _ in notes(await h.run(event)))


async def explained(engine: Any, case_id: str) -> list[tuple[str, bool, str]]:
    async with engine.connect() as conn:
        view = await explain_case(conn, case_id)
    return [(u["record"]["number"], u["delivered"], u["rule"]) for u in view["updates"]]


async def test_sync_off_sends_shared_record_news_to_the_major_case_only(make_harness: Any) -> None:
    h = await make_harness()
    inc = new_sys_id()
    m = major(incident=inc)
    k = child(m, incident=inc)
    await h.run(m, k)
    assert await recipients(h, inc_update(inc)) == [m["sys_id"]]
    assert await explained(h.engine, k["sys_id"]) == [("INC0012001", False, "sync_off")]
    assert await explained(h.engine, m["sys_id"]) == [("INC0012001", True, "major_case")]


async def test_sync_on_copies_to_open_children_but_not_the_resolved_one(make_harness: Any) -> None:
    h = await make_harness(parent_child_case_sync=True, case_fields_to_sync=SYNC_INCIDENT)
    inc = new_sys_id()
    m = major(incident=inc)
    sharing, resolved = child(m, incident=inc), child(m, incident=inc, state="6")
    without = child(m)  # no incident of its own: the major's is synced to it
    await h.run(m, sharing, resolved, without)
    assert await recipients(h, inc_update(inc)) == sorted([m["sys_id"], sharing["sys_id"], without["sys_id"]])
    assert await explained(h.engine, resolved["sys_id"]) == [("INC0012001", False, "child_closed")]
    assert await explained(h.engine, sharing["sys_id"]) == [("INC0012001", True, "synced_to_child")]


async def test_a_field_not_listed_is_not_copied(make_harness: Any) -> None:
    h = await make_harness(parent_child_case_sync=True)
    inc = new_sys_id()
    m = major(incident=inc)
    k = child(m, incident=inc)
    await h.run(m, k)
    assert await recipients(h, inc_update(inc)) == [m["sys_id"]]
    assert await explained(h.engine, k["sys_id"]) == [("INC0012001", False, "field_not_listed")]


async def test_two_problems_of_major_and_child_are_kept_apart(make_harness: Any) -> None:
    h = await make_harness(parent_child_case_sync=True, case_fields_to_sync=SYNC_INCIDENT)
    prb1, prb2 = new_sys_id(), new_sys_id()
    m = major(problem=prb1)
    k = child(m, problem=prb2)
    other = child(m)
    await h.run(m, k, other)
    first = itsm("problem", prb1, 2, changed=("state",), state="103")
    second = itsm("problem", prb2, 2, changed=("state",), state="104", number="PRB0004002")
    assert await recipients(h, first) == sorted([m["sys_id"], other["sys_id"]])
    assert await recipients(h, second) == [k["sys_id"]]
    assert await explained(h.engine, k["sys_id"]) == [
        ("PRB0004001", False, "different_record"),
        ("PRB0004002", True, "own_record"),
    ]
    assert await explained(h.engine, m["sys_id"]) == [
        ("PRB0004001", True, "major_case"),
        ("PRB0004002", False, "child_own_record"),
    ]


async def test_accepted_candidate_copies_its_records_to_the_major_and_is_locked(make_harness: Any) -> None:
    h = await make_harness()
    inc, prb, major_prb = new_sys_id(), new_sys_id(), new_sys_id()
    k = case(mod=1, major_case_state="proposed", incident=inc, problem=prb)
    m = major(problem=major_prb)
    assert await h.run(k, m) == []
    joined = case_update(k, parent=m["sys_id"], major_case_state="")
    [copy] = await h.run(joined)
    assert (copy["table"], copy["sys_id"], copy["operation"]) == (m["table"], m["sys_id"], "update")
    assert copy["fields"] == {"incident": inc} and copy["journal"] == []
    # the child's related records are read-only from now on
    refused = notes(await h.run(action(joined, "create_change", type="normal")))
    assert refused == [
        (
            k["sys_id"],
            f"The bridge did not run 'create_change': the case is a "
            f"child of major case {m['record']['number']}: its related "
            "records are read-only",
        )
    ]
    # the copied incident is shared now: its news go to the major case
    assert await recipients(h, inc_update(inc)) == [m["sys_id"]]
    # CSM's echo of the copy and later child updates copy nothing again
    echo = case_update(m, incident=inc)
    echo["caused_by_command"] = copy["command_id"]
    assert await h.run(echo, case_update(joined, priority="1")) == []


async def test_acceptance_works_whichever_event_comes_first(make_harness: Any) -> None:
    h = await make_harness()
    inc = new_sys_id()
    m_id = new_sys_id()
    k = case(mod=1, major_case_state="proposed", incident=inc)
    await h.run(k, case_update(k, parent=m_id))  # the child names a major not seen yet
    [copy] = await h.run(case(m_id, 1, major_case_state="accepted"))
    assert copy["sys_id"] == m_id and copy["fields"] == {"incident": inc}


async def test_an_ordinary_case_added_as_child_keeps_its_own_record(make_harness: Any) -> None:
    h = await make_harness()
    inc = new_sys_id()
    m = major()
    k = case(mod=1, incident=inc)
    await h.run(m, k)
    joined = case_update(k, parent=m["sys_id"])
    assert await h.run(joined) == []  # nothing copied
    assert await recipients(h, inc_update(inc)) == [k["sys_id"]]
    [problem] = await h.run(action(joined, "create_problem"))  # not locked
    assert problem["table"] == "problem"


@pytest.mark.parametrize("replay", [False, True])
async def test_a_late_child_gets_earlier_notes_only_when_asked(make_harness: Any, replay: bool) -> None:
    h = await make_harness(
        parent_child_case_sync=True, case_fields_to_sync=SYNC_INCIDENT, late_children_get_earlier_notes=replay
    )
    inc = new_sys_id()
    m = major(incident=inc)
    k = case(mod=1)  # an existing case without an incident of its own
    await h.run(m, k)
    assert await recipients(h, inc_update(inc)) == [m["sys_id"]]
    late = case_update(k, parent=m["sys_id"])
    replayed = notes(await h.run(late))
    if replay:
        assert replayed == [(k["sys_id"], "Incident INC0012001 is In Progress")]
    else:
        assert replayed == []
    assert (await explained(h.engine, k["sys_id"]))[-1] == (
        "INC0012001",
        replay,
        "late_child_replayed" if replay else "late_child",
    )
    # from now on the child shares the major's record and gets live copies
    assert await recipients(h, itsm("incident", inc, 3, changed=("state",), state="3")) == sorted(
        [m["sys_id"], k["sys_id"]]
    )
