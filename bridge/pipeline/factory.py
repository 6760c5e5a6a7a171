"""The batch processor exactly as the running bridge builds it (the bridge and the operator
tools such as ``bridge replay`` share it, so that they decide the same things)."""

from __future__ import annotations

from typing import Callable

from opentelemetry import trace

from bridge.flows import default_router
from bridge.mapping import MappingSet
from bridge.pipeline.batch import BatchProcessor
from bridge.pipeline.tracing import EventTracing
from bridge.settings import Settings
from bridge.store.batch_store import BatchStore
from bridge.store.flush import ChangeHook


def change_hooks() -> list[ChangeHook]:
    """Indexes kept in the batch's transaction from the records it changed."""
    from bridge.visibility import maintenance_plan

    return [maintenance_plan]


def build_processor(store: BatchStore, settings: Settings, mappings: Callable[[], MappingSet]) -> BatchProcessor:
    return BatchProcessor(
        store, settings.topics, default_router(), mappings, change_hooks(), tracing=event_tracing(settings)
    )


def event_tracing(settings: Settings) -> EventTracing | None:
    """Spans of batches and events when tracing is on: made by the tracer provider installed
    at start-up (``bridge.observability.tracing``), or the host process's own."""
    if not settings.tracing.enabled:
        return None
    return EventTracing(trace.get_tracer("csm-fsm-bridge"))
