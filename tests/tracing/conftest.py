"""The SDK behind the bridge's OpenTelemetry API calls, exporting to memory.

OpenTelemetry lets a process install its global tracer provider once: this one is installed on
first use and kept for the session (``bridge.observability.tracing`` leaves a provider that is
already there alone, as it would an embedding application's). Each test gets the exporter
cleared and tells its spans apart by their trace ids.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from opentelemetry import trace
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

_EXPORTER = InMemorySpanExporter()


def _install() -> InMemorySpanExporter:
    current = trace.get_tracer_provider()
    if not isinstance(current, TracerProvider):
        provider = TracerProvider()
        provider.add_span_processor(SimpleSpanProcessor(_EXPORTER))
        trace.set_tracer_provider(provider)
    assert isinstance(trace.get_tracer_provider(), TracerProvider)
    return _EXPORTER


@pytest.fixture
def spans() -> Iterator[InMemorySpanExporter]:
    exporter = _install()
    exporter.clear()
    yield exporter
    exporter.clear()
