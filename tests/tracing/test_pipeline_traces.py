"""Spans of the batch and of each event, on the real batch processor and SQLite store, and the
trace context every command and dead letter carries on (through the outbox row's headers)."""

from __future__ import annotations

import dataclasses
from typing import Any

from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind, StatusCode
from sqlalchemy import select

from bridge.mapping import load_mapping_set
from bridge.pipeline.factory import build_processor
from bridge.pipeline.records import RawRecord
from bridge.settings import Settings, TracingSettings
from bridge.store.schema import outbox
from tests.fixtures.events import make_event
from tests.fixtures.store import batch_store_of
from tests.pipeline.harness import MAPPINGS, Harness
from tests.tracing.helpers import Upstream, hex_ids, parent_ids


def _traced_harness(engine: Any, enabled: bool = True) -> Harness:
    harness = Harness(engine)
    settings = Settings(_env_file=None, topics=harness.topics, tracing=TracingSettings(enabled=enabled))
    harness.processor = build_processor(batch_store_of(engine), settings, lambda: load_mapping_set(MAPPINGS))
    return harness


def _with_headers(raw: RawRecord, upstream: Upstream) -> RawRecord:
    return dataclasses.replace(raw, headers=upstream.headers())


async def _stored_headers(engine: Any) -> dict[str, dict[str, str]]:
    """The outbox rows' headers as committed (what a restart would publish)."""
    from bridge.store.sql import read_json

    async with engine.connect() as conn:
        rows = await conn.execute(select(outbox.c.message_id, outbox.c.headers))
        return {message_id: read_json(headers) for message_id, headers in rows}


async def test_a_command_continues_the_trace_of_the_event_that_caused_it(
    store_engine: Any, spans: InMemorySpanExporter
) -> None:
    h = _traced_harness(store_engine)
    upstream = Upstream.new()
    await h.store.open()
    insert = h.raw(make_event("csm-case-insert"))
    action = _with_headers(h.raw(make_event("csm-case-action-create-work-order")), upstream)
    result = await h.processor.process([insert, action])
    [command] = [row for row in result.outbox if row["kind"] == "command"]

    [event_span] = [
        s
        for s in spans.get_finished_spans()
        if hex_ids(s)[0] == upstream.trace_id and s.name == f"process {action.topic}"
    ]
    assert event_span.kind == SpanKind.CONSUMER
    assert event_span.parent is not None and f"{event_span.parent.span_id:016x}" == upstream.span_id
    assert event_span.attributes is not None
    assert event_span.attributes["messaging.kafka.offset"] == action.offset
    assert event_span.attributes["bridge.outcome"] == "applied"
    # the command carries the event's span (and the upstream's trace state) to its consumer
    assert parent_ids(command["headers"]["traceparent"]) == hex_ids(event_span)
    assert command["headers"]["tracestate"] == "vendor=upstream"
    stored = await _stored_headers(store_engine)
    assert parent_ids(stored[command["message_id"]]["traceparent"]) == hex_ids(event_span)

    batch_span = next(s for s in spans.get_finished_spans() if s.name == "process")
    assert [f"{link.context.trace_id:032x}" for link in batch_span.links] == [upstream.trace_id]
    assert batch_span.attributes is not None and batch_span.attributes["messaging.batch.message_count"] == 2
    assert [link.context.span_id for link in event_span.links] == [batch_span.context.span_id]


async def test_a_dead_letter_carries_the_trace_of_its_input(store_engine: Any, spans: InMemorySpanExporter) -> None:
    h = _traced_harness(store_engine)
    upstream = Upstream.new()
    await h.store.open()
    malformed = _with_headers(h.raw(b'{"event_id": "e-bad", "source": "csm"'), upstream)
    result = await h.processor.process([malformed])
    [dead_letter] = result.outbox
    assert dead_letter["kind"] == "dead_letter"
    [event_span] = [s for s in spans.get_finished_spans() if hex_ids(s)[0] == upstream.trace_id]
    assert parent_ids(dead_letter["headers"]["traceparent"]) == hex_ids(event_span)
    assert event_span.status.status_code == StatusCode.ERROR
    assert event_span.attributes is not None and event_span.attributes["bridge.outcome"] == "dead_lettered"


async def test_an_event_without_trace_context_starts_a_trace_its_commands_continue(
    store_engine: Any, spans: InMemorySpanExporter
) -> None:
    h = _traced_harness(store_engine)
    result = await h.feed(make_event("csm-case-insert"), make_event("csm-case-action-create-work-order"))
    [command] = h.commands(result)
    command_row = next(row for row in result.outbox if row["kind"] == "command")
    event_spans = [s for s in spans.get_finished_spans() if s.name.startswith("process ")]
    assert len(event_spans) == 2 and all(s.parent is None for s in event_spans)
    assert parent_ids(command_row["headers"]["traceparent"]) in {hex_ids(s) for s in event_spans}
    assert command["command_id"] == command_row["message_id"]


async def test_with_tracing_off_no_span_is_made_and_no_header_written(
    store_engine: Any, spans: InMemorySpanExporter
) -> None:
    h = _traced_harness(store_engine, enabled=False)
    upstream = Upstream.new()
    await h.store.open()
    result = await h.processor.process(
        [
            h.raw(make_event("csm-case-insert")),
            _with_headers(h.raw(make_event("csm-case-action-create-work-order")), upstream),
        ]
    )
    assert result.outbox and all("traceparent" not in row["headers"] for row in result.outbox)
    assert spans.get_finished_spans() == ()


async def test_a_record_dead_lettered_on_its_own_carries_its_trace(
    store_engine: Any, spans: InMemorySpanExporter
) -> None:
    """A record that failed every batch it was in is dead-lettered alone (runtime isolation)."""
    h = _traced_harness(store_engine)
    upstream = Upstream.new()
    await h.store.open()
    raw = _with_headers(h.raw(make_event("csm-case-insert")), upstream)
    result = await h.processor.dead_letter_alone(raw, RuntimeError("failed every batch"))
    [dead_letter] = result.outbox
    [event_span] = [
        s for s in spans.get_finished_spans() if hex_ids(s)[0] == upstream.trace_id and s.name.startswith("process ")
    ]
    assert parent_ids(dead_letter["headers"]["traceparent"]) == hex_ids(event_span)
    assert event_span.status.status_code == StatusCode.ERROR
