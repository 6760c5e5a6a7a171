"""The tracer provider a running bridge exports its spans with (``BRIDGE_TRACING__*``).

The spans themselves are made with the OpenTelemetry API in ``bridge.pipeline.tracing``; this
module installs the SDK behind it when tracing is on: a resource naming the service and the
instance, a parent-based ratio sampler, and a batching exporter (OTLP over HTTP, or the
console). A process that installed a provider of its own (an application embedding the bridge,
the tests) keeps it.
"""

from __future__ import annotations

from opentelemetry import trace
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
    provider = TracerProvider(resource=Resource.create(attributes),
                              sampler=ParentBased(TraceIdRatioBased(config.sample_ratio)))
    provider.add_span_processor(BatchSpanProcessor(_exporter(settings)))
    trace.set_tracer_provider(provider)
    return provider


def _exporter(settings: Settings) -> SpanExporter:
    if settings.tracing.exporter == "console":
        return ConsoleSpanExporter()
    from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter

    return OTLPSpanExporter(endpoint=settings.tracing.otlp_endpoint or None)
