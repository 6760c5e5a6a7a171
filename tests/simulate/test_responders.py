"""The simulated systems answer the bridge's commands the way the contract says real ones do."""

from __future__ import annotations

import json
import uuid
from pathlib import Path
from typing import Any

import pytest

from bridgedev.simulate import BRIDGE_USER, CommandRecorder, Responders, SimWorld, populate
from tests.simulate.contract import check_event


@pytest.fixture
def world() -> SimWorld:
    world = SimWorld(31)
    for _ in populate(world, "tiny"):
        pass
    return world


def _work_order_insert(world: SimWorld, **overrides: Any) -> dict[str, Any]:
    case = world.index.cases[0]
    account = world.store.get(case, "account")
    command = {
        "command_id": str(uuid.uuid4()),
        "target": "fsm",
        "table": "wm_order",
        "operation": "insert",
        "sys_id": "",
        "correlation_id": f"case:{case}:wo:1",
        "fields": {
            "initiated_from": case,
            "account": account,
            "company": account,
            "priority": "2",
            "short_description": "Printer jams",
        },
        "journal": [{"element": "work_notes", "value": "Created from case"}],
        "caused_by": {
            "event_id": str(uuid.uuid4()),
            "source": "csm",
            "table": "sn_customerservice_case",
            "sys_id": case,
        },
    }
    command.update(overrides)
    return command


def _send(responders: Responders, system: str, command: dict[str, Any]) -> list[dict[str, Any]]:
    return [json.loads(m.value) for m in responders.handle(system, json.dumps(command).encode())]


def test_insert_is_answered_by_an_insert_event_carrying_the_command_ids(world: SimWorld) -> None:
    command = _work_order_insert(world)
    [event] = _send(Responders(world), "fsm", command)
    check_event(event, {})
    assert event["operation"] == "insert" and event["table"] == "wm_order"
    assert event["caused_by_command"] == command["command_id"]
    assert event["sys_updated_by"] == BRIDGE_USER
    record = event["record"]
    assert record["correlation_id"] == command["correlation_id"]
    assert record["number"].startswith("WO") and record["state"] == "draft"
    assert record["initiated_from"] == {
        "value": command["fields"]["initiated_from"],
        "display_value": world.store.get(world.index.cases[0], "number"),
    }
    assert [j["value"] for j in event["journal"]] == ["Created from case"]


def test_each_table_gets_its_number_prefix(world: SimWorld) -> None:
    responders = Responders(world)
    case = world.index.cases[0]
    [order] = _send(responders, "fsm", _work_order_insert(world))
    tables = [
        ("fsm", "wm_task", "WOT", {"parent": order["sys_id"]}),
        ("itsm", "incident", "INC", {}),
        ("itsm", "problem", "PRB", {}),
        ("itsm", "change_request", "CHG", {"type": "standard"}),
        ("itsm", "sc_request", "REQ", {"parent": case}),
    ]
    for system, table, prefix, fields in tables:
        [event] = _send(
            responders,
            system,
            _work_order_insert(
                world, target=system, table=table, fields=fields, journal=[], correlation_id=f"c:{table}"
            ),
        )
        assert event["record"]["number"].startswith(prefix)
        assert event["record"]["correlation_id"] == f"c:{table}"


def test_update_applies_fields_and_journal_and_bumps_the_count(world: SimWorld) -> None:
    responders = Responders(world)
    [created] = _send(responders, "fsm", _work_order_insert(world))
    update = {
        "command_id": str(uuid.uuid4()),
        "target": "fsm",
        "table": "wm_order",
        "operation": "update",
        "sys_id": created["sys_id"],
        "correlation_id": "",
        "fields": {"priority": "1", "short_description": "Printer jams"},
        "journal": [{"element": "work_notes", "value": "Case priority raised"}],
    }
    [event] = _send(responders, "fsm", update)
    check_event(event, {created["sys_id"]: 0})
    assert event["operation"] == "update" and event["caused_by_command"] == update["command_id"]
    assert event["changed_fields"] == ["priority"]
    assert event["record"]["priority"] == "1" and event["record"]["work_notes"] == ""
    assert [j["value"] for j in event["journal"]] == ["Case priority raised"]


def test_a_command_id_seen_before_has_no_second_effect(world: SimWorld) -> None:
    responders = Responders(world)
    command = _work_order_insert(world)
    assert len(_send(responders, "fsm", command)) == 1
    records = len(world.store)
    assert _send(responders, "fsm", command) == []
    assert len(world.store) == records
    assert responders.recorder.outcomes == {"created": 1, "duplicate": 1}


def test_commands_to_unknown_records_are_answered_by_nothing(world: SimWorld) -> None:
    responders = Responders(world)
    case = world.index.cases[0]
    ghost = {
        "command_id": str(uuid.uuid4()),
        "target": "csm",
        "table": "sn_customerservice_case",
        "operation": "update",
        "sys_id": uuid.uuid4().hex,
        "fields": {},
        "journal": [{"element": "work_notes", "value": "hello"}],
    }
    wrong_table = {**ghost, "command_id": str(uuid.uuid4()), "target": "fsm", "table": "wm_order", "sys_id": case}
    assert _send(responders, "csm", ghost) == []
    assert _send(responders, "fsm", wrong_table) == []
    assert responders.recorder.outcomes == {"unknown_record": 2}


def test_a_work_note_on_an_order_case_through_the_case_table_is_applied(world: SimWorld) -> None:
    order_case = next(c for c in world.index.cases if world.store.table(c) == "sn_order_case")
    note = {
        "command_id": str(uuid.uuid4()),
        "target": "csm",
        "table": "sn_customerservice_case",
        "operation": "update",
        "sys_id": order_case,
        "fields": {},
        "journal": [{"element": "work_notes", "value": "Incident INC0012001 is On Hold"}],
    }
    [event] = _send(Responders(world), "csm", note)
    assert event["table"] == "sn_order_case" and event["changed_fields"] == []


@pytest.mark.parametrize(
    "broken",
    [
        {"fields": {"account": "ACME-1"}},
        {"correlation_id": ""},
        {"target": "itsm"},
        {"fields": {"priority": 2}},
        {"table": "incident"},
        {"operation": "upsert"},
    ],
)
def test_commands_a_real_system_would_reject_have_no_effect(world: SimWorld, broken: dict[str, Any]) -> None:
    responders = Responders(world)
    records = len(world.store)
    assert _send(responders, "fsm", _work_order_insert(world, **broken)) == []
    assert responders.handle("fsm", b"{not json") == []
    assert len(world.store) == records
    assert responders.recorder.outcomes == {"invalid": 2}


def test_received_commands_are_recorded_to_jsonl(world: SimWorld, tmp_path: Path) -> None:
    path = tmp_path / "received.jsonl"
    recorder = CommandRecorder(path)
    responders = Responders(world, recorder)
    command = _work_order_insert(world)
    [event] = _send(responders, "fsm", command)
    _send(responders, "fsm", command)
    recorder.close()
    lines = [json.loads(line) for line in path.read_text().splitlines()]
    assert [line["outcome"] for line in lines] == ["created", "duplicate"]
    assert lines[0]["command"] == command and lines[0]["event_ids"] == [event["event_id"]]
    assert recorder.for_correlation(command["correlation_id"])[0].sys_id == event["sys_id"]
