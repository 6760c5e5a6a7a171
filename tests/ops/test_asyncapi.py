"""The committed AsyncAPI document is the one generated from the application, and it describes
the messages the bridge really reads and writes: every contract example event validates against
its topic's payload schema, and malformed ones do not; the commands the builders and a real
flow make validate against their topic's, and what the outbox publishes carries the headers
the document names."""

from __future__ import annotations

import json
from functools import cache
from typing import Any

import pytest
import yaml
from jsonschema import Draft7Validator
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT7

from bridge.commands.asyncapi import DOCUMENT, asyncapi_yaml
from bridge.pipeline.outbox import OutboxRelay
from bridge.settings import TopicNames
from connectors.common import CausedBy, Command, DecodeError, Reference, decode_event
from connectors.csm import commands as csm
from connectors.fsm import commands as fsm
from connectors.itsm import commands as itsm
from tests.connectors.examples import encode, event_examples, example
from tests.fixtures.events import make_event
from tests.pipeline.harness import Harness

TOPICS = TopicNames()
URI = "urn:csm-fsm-bridge:asyncapi"
CASE_ID = "c1659a27528573a105244296a480c759"
CAUSE = CausedBy(event_id="e-1", source="csm", table="sn_customerservice_case", sys_id=CASE_ID)


@cache
def _document() -> dict[str, Any]:
    return yaml.safe_load(DOCUMENT.read_text())  # type: ignore[no-any-return]


def _message(topic: str) -> dict[str, Any]:
    """The message object of the channel at `topic`."""
    [channel] = [c for c in _document()["channels"].values() if c["address"] == topic]
    [reference] = channel["messages"].values()
    name = reference["$ref"].rsplit("/", 1)[-1].replace("%20", " ")
    return _document()["components"]["messages"][name]  # type: ignore[no-any-return]


def _validator(schema: dict[str, Any]) -> Draft7Validator:
    """A validator of `schema`, whose `#/components/...` references resolve in the document."""
    registry = Registry().with_resource(URI, Resource.from_contents(_document(), default_specification=DRAFT7))
    if "$ref" in schema:
        schema = {"$ref": URI + schema["$ref"]}
    return Draft7Validator(schema, registry=registry)  # type: ignore[call-arg]


def _payload(topic: str) -> Draft7Validator:
    return _validator(_message(topic)["payload"])


def _errors(validator: Draft7Validator, instance: Any) -> list[str]:
    return [error.message for error in validator.iter_errors(instance)]


def test_committed_asyncapi_document_is_current() -> None:
    assert DOCUMENT.read_text() == asyncapi_yaml(), (
        "docs/asyncapi.yaml is stale: run `python -m bridge.commands.asyncapi`"
    )


def test_the_document_names_every_topic_of_the_bridge() -> None:
    document = _document()
    addresses = {channel["address"] for channel in document["channels"].values()}
    assert addresses == set(TopicNames().model_dump().values())
    assert document["info"]["title"] == "csm-fsm-bridge"


def test_every_schema_is_a_draft7_schema() -> None:
    for schema in _document()["components"]["schemas"].values():
        Draft7Validator.check_schema(schema)
    for message in _document()["components"]["messages"].values():
        Draft7Validator.check_schema(message["headers"])


def test_correlation_ids_point_at_what_the_bridge_carries() -> None:
    assert _message(TOPICS.csm_events)["correlationId"]["location"] == "$message.payload#/caused_by_command"
    assert _message(TOPICS.fsm_commands)["correlationId"]["location"] == "$message.payload#/command_id"
    location = _message(TOPICS.dead_letters)["correlationId"]["location"]
    assert location == "$message.header#/x-bridge-dead-letter-id"
    assert "x-bridge-dead-letter-id" in _message(TOPICS.dead_letters)["headers"]["required"]


@pytest.mark.parametrize("name", sorted(event_examples()))
def test_every_example_event_validates_against_its_topics_payload(name: str) -> None:
    document = json.loads(event_examples()[name])
    events = TOPICS.events()

    assert _errors(_payload(events[document["source"]]), document) == []
    for system, topic in events.items():  # and no other system's events topic takes it
        if system != document["source"]:
            assert _errors(_payload(topic), document)


def test_unknown_keys_validate_as_the_contract_tolerates_them() -> None:
    document = example("itsm-incident-update.json")
    document["schema_version"] = "1.1"
    document["record"]["u_customer_po"] = {"any": ["shape"]}
    document["record"]["caller_id"]["link"] = "https://itsm.example/api/now/table/x"
    document["journal"][0]["sys_id"] = "f" * 32

    decode_event(encode(document))  # the bridge takes it
    assert _errors(_payload(TOPICS.itsm_events), document) == []


def _edit(name: str, **changes: Any) -> dict[str, Any]:
    document = example(name)
    for path, value in changes.items():
        *parents, last = path.split("__")
        target = document
        for key in parents:
            target = target[int(key)] if isinstance(target, list) else target[key]
        if value is _DELETE:
            del target[last]
        else:
            target[int(last) if isinstance(target, list) else last] = value
    return document


_DELETE = object()
MALFORMED = {
    "a bare sys_id in a reference": _edit("csm-case-update.json", record__contact="a7299d839cf52e005803e1af8132a128"),
    "a reference without display_value": _edit("csm-contact-insert.json", record__account={"value": "b" * 32}),
    "an uppercase sys_id in a reference": _edit(
        "fsm-task-insert.json", record__parent={"value": "C" * 32, "display_value": "WO0010001"}
    ),
    "a number for a string": _edit("csm-case-update.json", record__priority=1),
    "null for a string": _edit("itsm-incident-update.json", record__close_notes=None),
    "no record": _edit("csm-account-insert.json", record=_DELETE),
    "sys_mod_count as a number": _edit("csm-case-update.json", sys_mod_count=2),
    "no sys_mod_count": _edit("csm-contact-insert.json", sys_mod_count=_DELETE),
    "a sys_id too short": _edit("itsm-request-closed.json", sys_id="c1659a27"),
    "a table of another system": _edit("csm-case-update.json", table="wm_order"),
    "an unknown table": _edit("csm-case-update.json", table="sys_user"),
    "an unknown operation": _edit("csm-case-update.json", operation="UPDATE"),
    "an unknown action": _edit("csm-case-action-create-change.json", action="escalate"),
    "an action on a work order": _edit("fsm-work-order-update.json", operation="action", action="create_work_order"),
    "a journal element the table has not": _edit("fsm-work-order-update.json", journal__0__element="comments"),
    "a bad timestamp": _edit("csm-case-update.json", sys_updated_on="22/11/2026 10:15"),
}


@pytest.mark.parametrize("document", list(MALFORMED.values()), ids=list(MALFORMED))
def test_malformed_events_do_not_validate(document: dict[str, Any]) -> None:
    with pytest.raises(DecodeError):  # the bridge refuses it too
        decode_event(encode(document))
    assert _errors(_payload(TOPICS.events()[document["source"]]), document)


def _built_commands() -> list[Command]:
    """Commands of every kind, to every system, as the builders make them."""
    account = Reference(value="b525434a32dbca42dfd7947056e5217f", display_value="Acme Corp")
    return [
        csm.work_note(
            "sn_customerservice_case", CASE_ID, "Incident INC0012001 is On Hold", command_id="c-1", caused_by=CAUSE
        ),
        csm.update(
            "sn_order_case",
            CASE_ID,
            {"state": "6", "close_notes": "Done"},
            command_id="c-2",
            caused_by=CAUSE,
            journal=[("comments", "Resolved")],
        ),
        fsm.insert(
            "wm_order",
            {"initiated_from": CASE_ID, "account": account, "consumer": None, "short_description": "Printer jam"},
            command_id="c-3",
            correlation_id=f"case:{CASE_ID}:wo:1",
            caused_by=CAUSE,
        ),
        fsm.note("wm_task", "d" * 32, "Parts ordered", command_id="c-4", caused_by=CAUSE),
        itsm.insert(
            "incident",
            {"short_description": "Printer fleet", "caller_id": "e" * 32},
            command_id="c-5",
            correlation_id=f"case:{CASE_ID}:incident",
            caused_by=CAUSE,
            journal=[("work_notes", "From case CS0001001")],
        ),
        itsm.update("change_request", "f" * 32, {"state": "-4"}, command_id="c-6", caused_by=CAUSE),
    ]


@pytest.mark.parametrize("command", _built_commands(), ids=lambda c: f"{c.target}-{c.table}")
def test_commands_the_builders_make_validate_against_their_topics_payload(command: Command) -> None:
    document = json.loads(command.to_json())
    commands = TOPICS.commands()

    assert _errors(_payload(commands[command.target]), document) == []
    for target, topic in commands.items():
        if target != command.target:
            assert _errors(_payload(topic), document)


@pytest.mark.parametrize(
    ("what", "change"),
    [
        ("a field the table has not", {"fields": {"short_descripton": "typo"}}),
        ("a journal field as a field", {"fields": {"work_notes": "use the journal"}}),
        ("a label for a reference", {"fields": {"account": "Acme Corp"}}),
        ("a number for a value", {"fields": {"priority": 1}}),
        ("an insert with a sys_id", {"sys_id": "d" * 32}),
        ("an insert without correlation_id", {"correlation_id": ""}),
        ("a journal element the table has not", {"journal": [{"element": "comments", "value": "x"}]}),
        ("an unknown key", {"priority": "1"}),
        ("no caused_by", {"caused_by": None}),
    ],
)
def test_commands_the_bridge_would_refuse_do_not_validate(what: str, change: dict[str, Any]) -> None:
    document = json.loads(_built_commands()[2].to_json()) | change  # the wm_order insert
    document = {key: value for key, value in document.items() if value is not None}

    with pytest.raises(ValueError):  # Command refuses it too
        Command.from_json(json.dumps(document).encode())
    assert _errors(_payload(TOPICS.fsm_commands), document)


async def test_what_a_real_flow_publishes_is_what_the_document_says(store_engine: Any) -> None:
    harness = Harness(store_engine)
    malformed = b'{"event_id": "e-bad", "source": "csm"'
    result = await harness.feed(
        make_event("csm-case-insert"), make_event("csm-case-action-create-work-order"), malformed
    )
    published: list[tuple[str, bytes, bytes, dict[str, str]]] = []

    async def send(topic: str, key: bytes, value: bytes, headers: Any) -> Any:
        published.append((topic, key, value, dict(headers)))

        async def acknowledged() -> None:
            return None

        return acknowledged()

    await OutboxRelay(harness.store, send).publish(result.outbox)

    assert {topic for topic, *_ in published} == {TOPICS.fsm_commands, TOPICS.dead_letters}
    for topic, key, value, headers in published:
        message = _message(topic)
        assert _errors(_validator(message["headers"]), headers) == []
        if topic == TOPICS.dead_letters:
            assert value == malformed  # the payload is the original bytes
            continue
        command = json.loads(value)
        assert _errors(_payload(topic), command) == []
        assert headers["x-bridge-message-id"] == command["command_id"]  # the correlation id
        assert key == (command["sys_id"] or command["correlation_id"]).encode()
