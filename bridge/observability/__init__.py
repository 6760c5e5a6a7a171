"""Metrics and other observers of the delivery runtime."""

from __future__ import annotations

from typing import Any

from bridge.settings import Settings


def runtime_observers(settings: Settings) -> list[Any]:
    """Observers handed to :class:`bridge.runtime.DeliveryRuntime`."""
    return []
