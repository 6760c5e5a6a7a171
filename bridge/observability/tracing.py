"""The tracer provider a running bridge exports its spans with (``BRIDGE_TRACING__*``).

The spans of events are made with the OpenTelemetry API in ``bridge.pipeline.tracing``; this
module installs the SDK behind it when tracing is on: a resource naming the service and the
instance, a parent-based ratio sampler, and a batching exporter (OTLP over HTTP, or the
console). A process that installed a provider of its own (an application embedding the bridge,
the tests) keeps it.

Publishing: FastStream's telemetry middleware on the broker makes a producer span per message
and writes its context into the message's headers. The outbox relay publishes after the
batch's commit, outside any event's span, so each publish runs in the context stored with its
row (:func:`publishing_in_trace_of`): the producer span is a child of the event's span, and the
trace goes on unbroken to whoever consumes the command or dead letter.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import AbstractContextManager, contextmanager, nullcontext
from typing import Any

from faststream.kafka.opentelemetry import KafkaTelemetryMiddleware
from opentelemetry import context, propagate, trace
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor, ConsoleSpanExporter, SpanExporter
from opentelemetry.sdk.trace.sampling import ParentBased, TraceIdRatioBased

from bridge.settings import Settings


def install_tracing(settings: Settings) -> TracerProvider | None:
    """The provider this call installed (to shut down at exit, which flushes it), or None."""
    config = settings.tracing
    if not config.enabled or isinstance(trace.get_tracer_provider(), TracerProvider):
        return None
    attributes = {"service.name": "csm-fsm-bridge"}
    if settings.instance_id:
        attributes["service.instance.id"] = settings.instance_id
    provider = TracerProvider(
        resource=Resource.create(attributes), sampler=ParentBased(TraceIdRatioBased(config.sample_ratio))
    )
    provider.add_span_processor(BatchSpanProcessor(_exporter(settings)))
    trace.set_tracer_provider(provider)
    return provider


def _exporter(settings: Settings) -> SpanExporter:
    if settings.tracing.exporter == "console":
        return ConsoleSpanExporter()
    from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter

    return OTLPSpanExporter(endpoint=settings.tracing.otlp_endpoint or None)


def publish_tracing(settings: Settings) -> tuple[Any, ...]:
    """The broker's middlewares: FastStream's telemetry on the publishers, when tracing is on."""
    return (KafkaTelemetryMiddleware(),) if settings.tracing.enabled else ()


_UNTRACED: AbstractContextManager[None] = nullcontext()


def publishing_in_trace_of(headers: Mapping[str, str], settings: Settings) -> AbstractContextManager[None]:
    """Publish an outbox row in the trace context stored in its headers (when tracing is on;
    off, a shared no-op: ~0.1 µs a message)."""
    if not settings.tracing.enabled or "traceparent" not in headers:
        return _UNTRACED
    return _attached(propagate.extract(headers))


@contextmanager
def _attached(stored: context.Context) -> Iterator[None]:
    token = context.attach(stored)
    try:
        yield
    finally:
        context.detach(token)
