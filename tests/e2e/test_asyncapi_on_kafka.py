"""What the bridge publishes on a real broker is what its AsyncAPI document says (issue 21, item
8): every command and dead letter taken off the topics validates against its channel's payload
and headers schemas, and carries the key the document names."""

from __future__ import annotations

import json
from typing import Any

import pytest

from tests.e2e.broker_harness import BrokerHarness
from tests.fixtures.events import make_event
from tests.ops.test_asyncapi import _errors, _message, _payload, _validator

pytestmark = pytest.mark.kafka


async def test_published_messages_validate_against_the_document(kafka_harness: BrokerHarness) -> None:
    malformed = b'{"event_id": "e-bad", "source": "csm"'
    result = await kafka_harness.feed(
        make_event("csm-case-insert"), make_event("csm-case-action-create-work-order"), malformed
    )
    topics = kafka_harness.settings.topics
    published: list[dict[str, Any]] = result.outbox
    assert {row["topic"] for row in published} == {topics.fsm_commands, topics.dead_letters}
    for row in published:
        message = _message(_default_topic(row["topic"], kafka_harness))
        assert _errors(_validator(message["headers"]), row["headers"]) == [], row["topic"]
        if row["kind"] == "dead_letter":
            assert row["payload"] == malformed  # the payload is the original bytes
            continue
        command = json.loads(row["payload"])
        assert _errors(_payload(_default_topic(row["topic"], kafka_harness)), command) == []
        assert row["headers"]["x-bridge-message-id"] == command["command_id"]
        assert row["key"] == (command["sys_id"] or command["correlation_id"]).encode()


def _default_topic(topic: str, harness: BrokerHarness) -> str:
    """The document describes the default topic names; the test's topics are renamed ones."""
    from bridge.settings import TopicNames

    defaults, renamed = TopicNames(), harness.settings.topics
    by_name = {getattr(renamed, name): getattr(defaults, name) for name in TopicNames.model_fields}
    return by_name[topic]
