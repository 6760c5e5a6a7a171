"""End to end on a real broker: an upstream system's trace goes through the bridge (its span of
the event, then FastStream's producer span of each publish) and on to the consumer of every
command and dead letter it causes, in the messages' own headers."""

from __future__ import annotations

import json
from typing import Any

import pytest
from aiokafka import AIOKafkaProducer
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind

from bridge.settings import Settings, TracingSettings
from tests.e2e.broker_harness import BrokerHarness
from tests.e2e.kafka_io import collect
from tests.fixtures.events import make_event
from tests.ops.test_asyncapi import _errors, _message, _validator
from tests.tracing.helpers import Upstream, hex_ids, parent_ids

pytestmark = pytest.mark.kafka


async def _send(settings: Settings, records: list[tuple[str, bytes, bytes | None, Upstream | None]]) -> None:
    producer = AIOKafkaProducer(bootstrap_servers=settings.kafka.bootstrap_servers, enable_idempotence=True)
    await producer.start()
    try:
        for topic, value, key, upstream in records:
            await producer.send_and_wait(topic, value, key=key, headers=list(upstream.headers()) if upstream else None)
    finally:
        await producer.stop()


async def test_commands_and_dead_letters_on_the_topics_continue_the_upstream_trace(
    bridge_settings: Settings, spans: InMemorySpanExporter
) -> None:
    settings = bridge_settings.model_copy(update={"tracing": TracingSettings(enabled=True)})
    topics = settings.topics
    harness = await BrokerHarness(settings).start()
    try:
        insert, action = make_event("csm-case-insert"), make_event("csm-case-action-create-work-order")
        created, malformed = Upstream.new(), Upstream.new()
        await _send(
            settings,
            [
                (topics.csm_events, json.dumps(insert).encode(), insert["sys_id"].encode(), None),
                (topics.csm_events, json.dumps(action).encode(), action["sys_id"].encode(), created),
                (topics.csm_events, b'{"event_id": "e-bad"', None, malformed),
            ],
        )
        [command] = await collect(settings, topics.fsm_commands, lambda found: len(found) >= 1)
        [dead_letter] = await collect(settings, topics.dead_letters, lambda found: len(found) >= 1)
    finally:
        await harness.close()

    finished = spans.get_finished_spans()
    for message, upstream, topic in (
        (command, created, topics.fsm_commands),
        (dead_letter, malformed, topics.dead_letters),
    ):
        headers: dict[str, Any] = {k: v.decode() for k, v in message.headers}
        [event_span] = [
            s for s in finished if s.name == f"process {topics.csm_events}" and hex_ids(s)[0] == upstream.trace_id
        ]
        assert event_span.parent is not None and f"{event_span.parent.span_id:016x}" == upstream.span_id
        # the message's context is FastStream's producer span, a child of the bridge's span of
        # the event: the consumer of the message continues the same trace
        trace_id, producer_id = parent_ids(headers["traceparent"])
        [producer] = [s for s in finished if hex_ids(s) == (trace_id, producer_id)]
        assert producer.name == f"{topic} create" and producer.kind == SpanKind.PRODUCER
        assert producer.parent is not None and producer.parent.span_id == event_span.context.span_id
        assert headers["tracestate"] == "vendor=upstream"
        # and the AsyncAPI document allows the headers
        default_topic = {topics.fsm_commands: "fsm.commands", topics.dead_letters: "bridge.dlq"}[topic]
        assert _errors(_validator(_message(default_topic)["headers"]), headers) == []
