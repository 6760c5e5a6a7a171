"""The batch processor exactly as the running bridge builds it (the bridge and the operator
tools such as ``bridge replay`` share it, so that they decide the same things)."""

from __future__ import annotations

from typing import Callable

from bridge.flows import default_router
from bridge.mapping import MappingSet
from bridge.pipeline.batch import BatchProcessor
from bridge.settings import Settings
from bridge.store.batch_store import BatchStore
from bridge.store.flush import ChangeHook


def change_hooks() -> list[ChangeHook]:
    """Indexes kept in the batch's transaction from the records it changed."""
    from bridge.visibility import maintenance_plan

    return [maintenance_plan]


def build_processor(store: BatchStore, settings: Settings,
                    mappings: Callable[[], MappingSet]) -> BatchProcessor:
    return BatchProcessor(store, settings.topics, default_router(), mappings, change_hooks())
