"""A producer's trace context, as an upstream system that traces would send it."""

from __future__ import annotations

import secrets
from dataclasses import dataclass

from opentelemetry.sdk.trace import ReadableSpan


@dataclass(frozen=True)
class Upstream:
    trace_id: str = ""
    span_id: str = ""

    @classmethod
    def new(cls) -> "Upstream":
        return cls(secrets.token_hex(16), secrets.token_hex(8))

    @property
    def traceparent(self) -> str:
        return f"00-{self.trace_id}-{self.span_id}-01"

    def headers(self) -> tuple[tuple[str, bytes], ...]:
        return (("traceparent", self.traceparent.encode()), ("tracestate", b"vendor=upstream"))


def hex_ids(span: ReadableSpan) -> tuple[str, str]:
    context = span.get_span_context()
    assert context is not None
    return f"{context.trace_id:032x}", f"{context.span_id:016x}"


def parent_ids(traceparent: str) -> tuple[str, str]:
    """(trace id, parent span id) of a W3C ``traceparent`` header (its flags apart)."""
    version, trace_id, span_id, _flags = traceparent.split("-")
    assert version == "00"
    return trace_id, span_id
