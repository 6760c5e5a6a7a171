"""Metrics and other observers of the delivery runtime, and the per-bridge resources behind
the HTTP surface (a read-only store engine, the lag sampler).

The composition root (``bridge.app``) gives the runtime a :class:`Telemetry` as its observer
and the ASGI app :func:`observability_lifespan`; both see the bridge only through
:class:`ObservedBridge`.

FastStream's Prometheus middleware is not used: per published message it doubled FastStream's
publish cost (24 → 44 µs measured), and the bridge's own metrics count what it publishes, by
target, table and operation, and its dead letters by reason, once per batch.
"""

from __future__ import annotations

import asyncio
import contextlib
from typing import AsyncIterator, Callable

from bridge.observability.telemetry import Sample, Telemetry
from bridge.observability.view import ObservedBridge

__all__ = ["ObservedBridge", "Sample", "Telemetry", "observability_lifespan"]


def observability_lifespan(bridge: ObservedBridge) -> Callable[[], contextlib.AbstractAsyncContextManager[None]]:
    """The ASGI app's ``lifespan``: opens what the HTTP surface needs and runs the sampler."""

    @contextlib.asynccontextmanager
    async def lifespan() -> AsyncIterator[None]:
        from bridge.observability.sampler import Sampler
        from bridge.store.engine import store_engine

        telemetry = bridge.telemetry
        telemetry.read_engine = engine = store_engine(bridge.settings.store, writer=False, busy_timeout_ms=2000)
        stop = asyncio.Event()
        task = asyncio.get_running_loop().create_task(Sampler(bridge).run(stop))
        try:
            yield
        finally:
            stop.set()
            with contextlib.suppress(Exception):
                await asyncio.wait_for(task, timeout=10)
            telemetry.read_engine = None
            await engine.dispose()

    return lifespan
