"""Creating ITSM records from a case, linking them back, and the one-per-type rule."""

from __future__ import annotations

import pytest

from tests.fixtures.events import new_sys_id
from tests.itsm.events import action, case, case_update, insert_answer, itsm
from tests.itsm.harness import ItsmHarness, notes


async def test_create_incident_sends_the_case_context_and_links_the_answer(h: ItsmHarness) -> None:
    c = case(mod=3, priority="2", short_description="Printer jams")
    [insert] = await h.run(c, action(c, "create_incident"))
    assert (insert["target"], insert["table"], insert["operation"]) == ("itsm", "incident", "insert")
    assert insert["correlation_id"].startswith(f"case:{c['sys_id']}:incident:3:")
    fields = insert["fields"]
    assert fields["short_description"] == "Printer jams"
    assert fields["caller_id"] == c["record"]["contact"]["value"]
    assert fields["company"] == c["record"]["account"]["value"]
    assert insert["caused_by"]["sys_id"] == c["sys_id"]

    inc_id = new_sys_id()
    [link] = await h.run(insert_answer(insert, inc_id))
    assert (link["target"], link["table"], link["sys_id"]) == ("csm", c["table"], c["sys_id"])
    assert link["fields"] == {"incident": inc_id} and link["journal"] == []

    update = itsm("incident", inc_id, 1, changed=("state",), state="3", hold_reason="Awaiting Vendor")
    assert notes(await h.run(update)) == [(c["sys_id"], "Incident INC0012001 is On Hold (Awaiting Vendor)")]


@pytest.mark.parametrize(
    ("name", "args", "table", "relation", "expected"),
    [
        ("create_problem", {}, "problem", "problem", {"short_description": "Printer jams"}),
        (
            "create_change",
            {"type": "normal"},
            "change_request",
            "change",
            {"type": "normal", "short_description": "Printer jams"},
        ),
        (
            "create_change",
            {"type": "standard", "template": "Firmware rollback"},
            "change_request",
            "change",
            {"type": "standard", "short_description": "Printer jams (standard change: Firmware rollback)"},
        ),
    ],
)
async def test_create_problem_and_changes(
    h: ItsmHarness, name: str, args: dict[str, str], table: str, relation: str, expected: dict[str, str]
) -> None:
    c = case(mod=1, short_description="Printer jams")
    [insert] = await h.run(c, action(c, name, **args))
    assert insert["table"] == table and insert["fields"] == expected
    assert insert["correlation_id"].startswith(f"case:{c['sys_id']}:{relation}:1:")
    record_id = new_sys_id()
    [link] = await h.run(insert_answer(insert, record_id))
    assert link["fields"] == {relation: record_id}


async def test_requests_name_the_case_as_parent_and_a_case_may_have_many(h: ItsmHarness) -> None:
    c = case(mod=1, short_description="Printer jams")
    [first] = await h.run(c, action(c, "create_request", cat_item="Toner"))
    assert first["table"] == "sc_request"
    assert first["fields"] == {"parent": c["sys_id"], "short_description": "Toner: Printer jams"}
    assert first["correlation_id"].startswith(f"case:{c['sys_id']}:request:1:")
    req_id = new_sys_id()
    assert await h.run(insert_answer(first, req_id, parent=c["sys_id"])) == []  # no case field
    later = case_update(c, priority="1")
    [second] = await h.run(later, action(later, "create_request", cat_item="Drum"))
    assert second["correlation_id"].startswith(f"case:{c['sys_id']}:request:2:")
    closed = itsm(
        "sc_request", req_id, 1, changed=("request_state",), request_state="closed_complete", parent=c["sys_id"]
    )
    assert notes(await h.run(closed)) == [
        (c["sys_id"], "Request REQ0002001 is closed: Closed Complete"),
        (c["sys_id"], "Suggested resolution code: Solved – Related Request is Closed Complete (from REQ0002001)"),
    ]


async def test_each_request_press_is_a_request_even_on_an_unchanged_case(h: ItsmHarness) -> None:
    """The contract: a case may have many requests, and each press is one request. Two presses
    of "Create Request" for two catalog items before the case changed carry the same count."""
    c = case(mod=1, short_description="Printer jams")
    toner, drum = action(c, "create_request", cat_item="Toner"), action(c, "create_request", cat_item="Drum")
    inserts = await h.run(c, toner, drum)
    assert [i["fields"]["short_description"] for i in inserts] == ["Toner: Printer jams", "Drum: Printer jams"]
    assert len({i["correlation_id"] for i in inserts}) == 2
    assert len({i["command_id"] for i in inserts}) == 2
    assert await h.run(drum, toner) == []  # redelivered presses: nothing more
    # ITSM answers both: both are linked, as requests of the case
    for insert in inserts:
        assert await h.run(insert_answer(insert, new_sys_id(), parent=c["sys_id"])) == []


async def test_a_second_incident_is_refused_with_a_note_saying_why(h: ItsmHarness) -> None:
    c = case(mod=1)
    [insert] = await h.run(c, action(c, "create_incident"))
    inc_id = new_sys_id()
    await h.run(insert_answer(insert, inc_id, number="INC0012001"))
    again = case_update(c, priority="1")  # CSM has not set the field yet: the link decides
    commands, result = await h.outcomes(again, action(again, "create_incident"))
    assert notes(commands) == [
        (c["sys_id"], "The bridge did not run 'create_incident': the case already has incident INC0012001")
    ]
    assert commands[0]["fields"] == {} and result.outcomes["refused"] == 1
    # a new problem is still allowed
    [problem] = await h.run(action(case_update(again, impact="1"), "create_problem"))
    assert problem["table"] == "problem"


async def test_a_second_create_before_itsm_answers_is_refused(h: ItsmHarness) -> None:
    c = case(mod=1)
    await h.run(c, action(c, "create_change", type="normal"))
    again = case_update(c, priority="1")
    [note] = await h.run(again, action(again, "create_change", type="normal"))
    assert "already requested" in note["journal"][0]["value"]


async def test_actions_on_a_closed_case_are_refused(h: ItsmHarness) -> None:
    c = case(mod=1, state="3")
    [note] = await h.run(c, action(c, "create_problem"))
    assert note["journal"][0]["value"] == ("The bridge did not run 'create_problem': the case is closed or canceled")


async def test_records_linked_by_csm_or_itsm_themselves_are_routed(h: ItsmHarness) -> None:
    inc_id, req_id = new_sys_id(), new_sys_id()
    c = case(mod=1)
    await h.run(c, case_update(c, incident=inc_id))
    await h.run(itsm("sc_request", req_id, 0, operation="insert", parent=c["sys_id"]))
    inc = itsm("incident", inc_id, 4, changed=("state",), state="2")
    req = itsm("sc_request", req_id, 1, changed=("request_state",), request_state="in_process", parent=c["sys_id"])
    assert sorted(notes(await h.run(inc, req))) == [  # two records: no order between them
        (c["sys_id"], "Incident INC0012001 is In Progress"),
        (c["sys_id"], "Request REQ0002001 is In Process"),
    ]
    # moving the case's field moves the link: the old incident no longer reaches the case
    moved = case_update(case_update(c, incident=inc_id), incident=new_sys_id())
    await h.run(moved)
    _, result = await h.outcomes(itsm("incident", inc_id, 5, changed=("state",), state="3"))
    assert h.commands(result) == [] and result.outcomes["unlinked"] == 1


async def test_unlinked_itsm_traffic_is_counted_and_ignored(h: ItsmHarness) -> None:
    commands, result = await h.outcomes(
        itsm("incident", operation="insert"), itsm("problem", mod=3, changed=("state",))
    )
    assert commands == [] and result.outcomes["unlinked"] == 2


async def test_replayed_events_produce_nothing_new(h: ItsmHarness) -> None:
    c = case(mod=1)
    act = action(c, "create_incident")
    [insert] = await h.run(c, act)
    assert await h.run(act, act) == []  # redelivered copies of the press
    answer = insert_answer(insert, new_sys_id())
    [link] = await h.run(answer)
    assert await h.run(answer, {**answer, "event_id": "again"}) == []
    update = itsm(
        "incident",
        answer["sys_id"],
        1,
        changed=("state",),
        state="6",
        close_code="Solved (Permanently)",
        close_notes="Firmware 4.3",
    )
    first = await h.run(update)
    assert len(first) == 2 and await h.run({**update, "event_id": "copy"}) == []


async def test_itsm_insert_of_a_record_a_case_already_names_is_not_unlinked(h: ItsmHarness) -> None:
    inc = new_sys_id()
    await h.run(case(mod=1, incident=inc))  # the case names the incident first
    commands, result = await h.outcomes(itsm("incident", inc, 0, operation="insert"))
    assert commands == [] and "unlinked" not in result.outcomes
