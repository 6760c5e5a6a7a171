"""Metrics and other observers of the delivery runtime, and the per-bridge resources behind
the HTTP surface (a read-only store engine, the lag sampler).

``create_bridge`` wires three things from here: :func:`runtime_observers` (given to the
runtime), :func:`transport_metrics` (FastStream's Prometheus middleware, given to the broker)
and :func:`observability_lifespan` (given to the ASGI app).
"""

from __future__ import annotations

import asyncio
import contextlib
from typing import TYPE_CHECKING, Any, AsyncIterator, Callable

from faststream.kafka.prometheus import KafkaPrometheusMiddleware
from prometheus_client import CollectorRegistry

from bridge.observability.telemetry import Sample, Telemetry
from bridge.settings import Settings

if TYPE_CHECKING:
    from bridge.app import Bridge

__all__ = ["Sample", "Telemetry", "observability_lifespan", "runtime_observers",
           "telemetry_of", "transport_metrics", "TransportMetrics"]


def runtime_observers(settings: Settings) -> list[Any]:
    """Observers handed to :class:`bridge.runtime.DeliveryRuntime`."""
    return [Telemetry(settings)]


class TransportMetrics(KafkaPrometheusMiddleware):
    """FastStream's per-message metrics, on a registry of their own (merged at scrape time:
    the broker is built before the runtime's observers, so it cannot share theirs)."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        super().__init__(registry=self.registry, app_name="bridge", metrics_prefix="faststream")


def transport_metrics() -> TransportMetrics:
    """The middleware to give ``KafkaBroker(middlewares=[...])``."""
    return TransportMetrics()


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
        for middleware in bridge.broker.middlewares:
            if isinstance(middleware, TransportMetrics):
                telemetry.metrics.include(middleware.registry)
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
