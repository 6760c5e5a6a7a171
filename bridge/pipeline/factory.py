"""The batch processor exactly as the running bridge builds it (the bridge and the operator
tools such as ``bridge replay`` share it, so that they decide the same things)."""

from __future__ import annotations

from typing import Any, Callable

from sqlalchemy.ext.asyncio import AsyncEngine

from bridge.flows import default_router
from bridge.pipeline.batch import BatchProcessor
from bridge.pipeline.flush import ChangeHook
from bridge.settings import Settings


def change_hooks() -> list[ChangeHook]:
    """Indexes kept in the batch's transaction from the records it changed."""
    from bridge.visibility import apply_changes

    return [apply_changes]


def build_processor(engine: AsyncEngine, settings: Settings,
                    mappings: Callable[[], Any]) -> BatchProcessor:
    return BatchProcessor(engine, settings.topics, default_router(), mappings, change_hooks())
