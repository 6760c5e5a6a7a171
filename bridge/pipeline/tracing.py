"""OpenTelemetry spans for the events a batch handles, and the trace context they pass on.

The bridge polls with its own aiokafka consumer (``bridge.kafka.consumer``), so no library
instruments it: this module uses the OpenTelemetry API directly. Per batch, one ``process``
span linked to the trace context of each of its events (W3C ``traceparent`` in the record's
headers). Per record, one ``process <topic>`` span, a child of the record's own context (so it
belongs to the producer's trace) and linked to its batch. That span's context is written into
the headers of every outbox row the record caused, commands and dead letters alike: the row
stores it with the batch's transaction, and whoever consumes the command continues the trace,
even when the row is published after a crash and a restart.

Built only when tracing is on (``BRIDGE_TRACING__ENABLED``); off, the pipeline holds ``None``
and pays one comparison per record.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from opentelemetry import propagate, trace
from opentelemetry.context import Context
from opentelemetry.trace import Link, Span, SpanKind, Status, StatusCode, Tracer

from bridge.pipeline.records import RawRecord

#: Spans a batch span links to at most (a batch holds up to ``consumer.max_records`` events).
MAX_BATCH_LINKS = 128


def _carrier(raw: RawRecord) -> dict[str, str]:
    return {name: value.decode("latin-1") for name, value in raw.headers if isinstance(value, bytes | bytearray)}


class EventTracing:
    """Makes the spans of batches; one per processor."""

    def __init__(self, tracer: Tracer) -> None:
        self._tracer = tracer

    def batch(self, raws: Sequence[RawRecord]) -> "BatchTrace":
        return BatchTrace(self._tracer, raws)


class BatchTrace:
    """The spans of one batch: started with it, ended by :meth:`end` (or :meth:`fail`)."""

    def __init__(self, tracer: Tracer, raws: Sequence[RawRecord]) -> None:
        self._tracer = tracer
        self._raws = raws
        # Records without headers (most producers that do not trace) skip the propagator.
        self._parents: list[Context | None] = [
            propagate.extract(_carrier(raw)) if raw.headers else None for raw in raws
        ]
        links = []
        for parent in self._parents:
            context = trace.get_current_span(parent).get_span_context() if parent else None
            if context is not None and context.is_valid:
                links.append(Link(context))
        self.span = tracer.start_span(
            "process",
            kind=SpanKind.CONSUMER,
            links=links[:MAX_BATCH_LINKS],
            attributes={
                "messaging.system": "kafka",
                "messaging.operation.type": "process",
                "messaging.batch.message_count": len(raws),
            },
        )
        self._open: Span | None = None

    def start_record(self, index: int) -> Span:
        """The span of the batch's ``index``-th record, open until :meth:`end_record`."""
        raw = self._raws[index]
        self._open = self._tracer.start_span(
            f"process {raw.topic}",
            context=self._parents[index],
            kind=SpanKind.CONSUMER,
            links=[Link(self.span.get_span_context())],
            attributes={
                "messaging.system": "kafka",
                "messaging.operation.type": "process",
                "messaging.destination.name": raw.topic,
                "messaging.destination.partition.id": str(raw.partition),
                "messaging.kafka.offset": raw.offset,
            },
        )
        return self._open

    def end_record(self, span: Span, outcome: str, caused: Sequence[dict[str, Any]]) -> None:
        """Close a record's span; ``caused`` are the outbox rows it wrote (their headers get the
        span's context)."""
        span.set_attribute("bridge.outcome", outcome)
        if caused:
            headers = trace_headers(span)
            for row in caused:
                row["headers"].update(headers)
                if row.get("kind") == "dead_letter":
                    reason = row["headers"].get("x-bridge-reason", "")
                    span.set_status(Status(StatusCode.ERROR, f"dead-lettered: {reason}"))
            span.set_attribute("bridge.outbox_rows", len(caused))
        span.end()
        self._open = None

    def end(self, outcomes: Mapping[str, int]) -> None:
        for outcome, count in outcomes.items():
            self.span.set_attribute(f"bridge.events.{outcome}", count)
        self.span.end()

    def fail(self, error: BaseException) -> None:
        """The batch did not commit (it will be retried): its spans say so."""
        for span in filter(None, (self._open, self.span)):
            span.record_exception(error)
            span.set_status(Status(StatusCode.ERROR, type(error).__name__))
            span.end()
        self._open = None


def trace_headers(span: Span) -> dict[str, str]:
    """The W3C headers (``traceparent``, ``tracestate``; what the configured propagator writes)
    that make a consumer of a message continue ``span``'s trace."""
    headers: dict[str, str] = {}
    propagate.inject(headers, context=trace.set_span_in_context(span))
    return headers
