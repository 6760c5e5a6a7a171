"""Every event example of the contract decodes, validated against its table's record Struct,
and back."""

from __future__ import annotations

import json
from typing import Any

import msgspec
import pytest

from connectors.catalog import TABLES
from connectors.common import CausedBy, DecodeError, Event, JournalEntry, Reference, decode_event
from connectors.common.decoder import decode_checked
from connectors.common.registry import record_model
from tests.connectors.examples import encode, event_examples, example

EXPECTED_TABLES = {
    "csm-account-insert.json": "customer_account",
    "csm-case-update.json": "sn_customerservice_case",
    "csm-contact-insert.json": "customer_contact",
    "fsm-task-insert.json": "wm_task",
    "fsm-work-order-update.json": "wm_order",
    "itsm-incident-update.json": "incident",
    "itsm-problem-workaround.json": "problem",
    "itsm-request-closed.json": "sc_request",
}


def _typed(event: Event) -> Any:
    """The record as its table's Struct (what the decoder validated it against)."""
    return msgspec.convert(event.record, record_model(event.table))


def _wire(value: Any) -> Any:
    return value.to_wire() if isinstance(value, Reference) else value


@pytest.mark.parametrize("name", sorted(event_examples()))
def test_every_example_decodes_and_round_trips(name: str) -> None:
    raw = event_examples()[name]
    source = name.split("-")[0]

    event = decode_event(raw, topic_source=source)

    document = json.loads(raw)
    assert event.source == source
    assert event.table == document["table"]
    assert event.sys_mod_count == int(document["sys_mod_count"])
    assert event.record_dict() == document["record"]
    typed = _typed(event)  # the Struct agrees with what it passed
    assert {name: _wire(getattr(typed, name)) for name in event.record if name in TABLES[event.table].fields} == {
        name: value for name, value in event.record.items() if name in TABLES[event.table].fields
    }
    assert event.to_wire() == document
    assert decode_event(event.to_json()) == event
    # The exact path (what the fast path hands anything unusual to) accepts it alike, from its
    # own system's topic, with the source read from the document (not an interned literal).
    assert decode_checked(raw, topic_source=source) == event


@pytest.mark.parametrize(("name", "table"), sorted(EXPECTED_TABLES.items()))
def test_record_is_checked_against_its_tables_struct(name: str, table: str) -> None:
    event = decode_event(event_examples()[name])
    model = record_model(table)

    assert event.table == table
    assert model.__module__ == f"connectors.{event.source}.records"
    assert type(_typed(event)) is model


def test_typed_access_to_a_case_update() -> None:
    event = decode_event(event_examples()["csm-case-update.json"], topic_source="csm")

    assert isinstance(event.record, dict)
    assert event.record["priority"] == "1"
    assert Reference(**event.record["contact"]) == Reference(
        value="a7299d839cf52e005803e1af8132a128", display_value="Grace Hopper"
    )
    assert _typed(event).contact == Reference(value="a7299d839cf52e005803e1af8132a128", display_value="Grace Hopper")
    assert event.record["consumer"] == ""
    assert event.ref("account") == "b525434a32dbca42dfd7947056e5217f"
    assert event.ref("consumer") is None
    assert event.changed_fields == ("priority", "contact")
    assert event.journal == (
        JournalEntry(
            element="work_notes",
            value="Escalated after second call",
            sys_created_on="2026-11-22 10:15:00",
            sys_created_by="agent.jones",
        ),
    )
    assert event.caused_by_command is None
    assert event.action is None


def test_action_event_exposes_action_and_args() -> None:
    event = decode_event(event_examples()["csm-case-action-create-change.json"])

    assert event.operation == "action"
    assert event.action == "create_change"
    assert event.action_args == {"type": "normal"}


def test_bridge_caused_insert_carries_the_command_id() -> None:
    event = decode_event(event_examples()["fsm-work-order-insert.json"], topic_source="fsm")

    assert event.caused_by_command == "7e199658-04e4-5de6-983b-cf66a2533276"
    assert event.ref("initiated_from") == "c1659a27528573a105244296a480c759"
    assert event.record["correlation_id"] == "case:c1659a27528573a105244296a480c759:wo:1"


def test_ref_rejects_fields_that_are_not_references() -> None:
    event = decode_event(event_examples()["csm-case-insert.json"])

    with pytest.raises(KeyError):
        event.ref("priority")
    with pytest.raises(KeyError):
        event.ref("no_such_field")


def test_as_cause_names_the_event() -> None:
    event = decode_event(event_examples()["itsm-incident-update.json"])

    assert event.as_cause() == CausedBy(
        event_id="d07631a4-1339-5ba2-a671-75cd304691cf",
        source="itsm",
        table="incident",
        sys_id="5dc2d9330ff9478e2c1c447273edff76",
    )


def test_order_case_is_a_case_with_an_order() -> None:
    document = example("csm-case-insert.json")
    document["table"] = "sn_order_case"
    document["record"]["sys_class_name"] = "sn_order_case"
    document["record"]["order"] = {"value": "e" * 32, "display_value": "ORD0001001"}

    event = decode_event(encode(document), topic_source="csm")

    case, order_case = (
        {field.name for field in msgspec.structs.fields(record_model(table))}
        for table in ("sn_customerservice_case", "sn_order_case")
    )
    assert order_case == case | {"order"}
    assert event.ref("order") == "e" * 32


def test_optional_envelope_keys_take_their_defaults() -> None:
    document = example("csm-account-insert.json")
    for key in (
        "action",
        "action_args",
        "sys_updated_on",
        "sys_updated_by",
        "caused_by_command",
        "changed_fields",
        "journal",
    ):
        del document[key]

    event = decode_event(encode(document))

    assert (event.action, event.action_args, event.changed_fields, event.journal) == (None, {}, (), ())
    assert (event.sys_updated_on, event.sys_updated_by, event.caused_by_command) == ("", "", None)


def test_unicode_text_and_escaped_surrogate_pairs_are_kept() -> None:
    document = example("itsm-problem-workaround.json")
    document["record"]["workaround"] = "Redémarrer l’imprimante 🖨"

    event = decode_event(json.dumps(document, ensure_ascii=True).encode())

    assert event.record["workaround"] == "Redémarrer l’imprimante 🖨"


def test_direct_construction_checks_the_record_against_its_tables_struct() -> None:
    values: dict[str, Any] = {
        "event_id": "e1",
        "source": "fsm",
        "table": "wm_task",
        "operation": "update",
        "sys_id": "c" * 32,
        "sys_mod_count": 2,
    }
    event = Event(**values, record={"number": "WOT1", "parent": {"value": "d" * 32, "display_value": "WO1"}})

    assert event.ref("parent") == "d" * 32
    assert decode_event(event.to_json(), topic_source="fsm") == event
    with pytest.raises(DecodeError) as caught:  # `parent` is a reference of wm_task
        Event(**values, record={"number": "WOT1", "parent": "WO1"})
    assert caught.value.reason_code == "invalid_reference"


@pytest.mark.parametrize(
    "override",
    [
        {"source": "csm"},  # wm_task is not a CSM table
        {"table": "sn_customerservice_case"},  # nor is a case FSM's
        {"operation": "action", "action": "create_work_order"},  # actions are for cases only
        {"sys_id": "not-a-sys-id"},
    ],
)
def test_direct_construction_enforces_the_contract(override: dict[str, str]) -> None:
    values = {
        "event_id": "e1",
        "source": "fsm",
        "table": "wm_task",
        "operation": "update",
        "sys_id": "c" * 32,
        "sys_mod_count": 2,
        "record": {},
    } | override
    with pytest.raises(ValueError):
        Event(**values)


def test_every_catalog_table_decodes_an_empty_record() -> None:
    for table, spec in TABLES.items():
        document = example("csm-account-insert.json")
        document.update(source=spec.system, table=table, record={})
        assert decode_event(encode(document)).record_dict() == {}
