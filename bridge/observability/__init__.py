"""Metrics and other observers of the delivery runtime, and the per-bridge resources behind
the HTTP surface (a read-only store engine, the lag sampler).

``create_bridge`` wires two things from here: :func:`runtime_observers` (given to the runtime)
and :func:`observability_lifespan` (given to the ASGI app).

FastStream's Prometheus middleware is not used: per published message it doubled FastStream's
publish cost (24 → 44 µs measured), and the bridge's own metrics count what it publishes, by
target, table and operation, and its dead letters by reason, once per batch.
"""

from __future__ import annotations

import asyncio
import contextlib
from typing import TYPE_CHECKING, Any, AsyncIterator, Callable

from bridge.observability.telemetry import Sample, Telemetry
from bridge.settings import Settings

if TYPE_CHECKING:
    from bridge.app import Bridge

__all__ = ["Sample", "Telemetry", "observability_lifespan", "runtime_observers",
           "telemetry_of"]


def runtime_observers(settings: Settings) -> list[Any]:
    """Observers handed to :class:`bridge.runtime.DeliveryRuntime`."""
    return [Telemetry(settings)]


def telemetry_of(bridge: "Bridge") -> Telemetry:
    for observer in bridge.runtime.observers:
        if isinstance(observer, Telemetry):
            return observer
    raise LookupError("this bridge runs without telemetry")


def observability_lifespan(get_bridge: Callable[[], "Bridge"]) -> Callable[[], Any]:
    """The ASGI app's ``lifespan``: opens what the HTTP surface needs and runs the sampler."""

    @contextlib.asynccontextmanager
    async def lifespan() -> AsyncIterator[None]:
        from bridge.observability.sampler import Sampler
        from bridge.store.engine import store_engine

        bridge = get_bridge()
        telemetry = telemetry_of(bridge)
        telemetry.read_engine = store_engine(bridge.settings.store, writer=False,
                                             busy_timeout_ms=2000)
        stop = asyncio.Event()
        task = asyncio.get_running_loop().create_task(Sampler(get_bridge, telemetry).run(stop))
        try:
            yield
        finally:
            stop.set()
            with contextlib.suppress(Exception):
                await asyncio.wait_for(task, timeout=10)
            await telemetry.read_engine.dispose()

    return lifespan
