"""Every few seconds: consumer lag, outbox backlog and mapping state, into metrics and history.

Runs for the life of the bridge (started by :func:`bridge.observability.observability_lifespan`).
A failed sample (broker down, store locked) records "unknown" and the loop goes on.
"""

from __future__ import annotations

import asyncio
from typing import Any

import structlog
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncEngine

from bridge.observability.lag import LagProbe, PartitionLag
from bridge.observability.view import ObservedBridge
from bridge.store.schema import outbox

log = structlog.get_logger("bridge.sampler")

SAMPLE_INTERVAL_S = 2.0


class Sampler:
    def __init__(self, bridge: ObservedBridge, interval_s: float = SAMPLE_INTERVAL_S) -> None:
        self._bridge = bridge
        self._telemetry = bridge.telemetry
        self._interval_s = interval_s
        self._probe: LagProbe | None = None

    async def run(self, stop: asyncio.Event) -> None:
        try:
            while not stop.is_set():
                await self.sample_once()
                try:
                    await asyncio.wait_for(stop.wait(), timeout=self._interval_s)
                except TimeoutError:
                    pass
        finally:
            await self._close_probe()

    async def sample_once(self) -> None:
        bridge = self._bridge
        lag = await self._lag()
        engine = self._telemetry.read_engine
        backlog = await _quietly(_backlog(engine), "outbox_backlog") if engine else None
        self._telemetry.record_sample(lag, backlog, bridge.assigned_partitions())
        self._telemetry.metrics.outbox_refused.set(bridge.outbox_refused())
        wal_pages = bridge.wal_pages()
        if wal_pages is not None:
            self._telemetry.metrics.wal_pages.set(wal_pages)
        reloader = bridge.reloader
        if reloader is not None:
            self._telemetry.metrics.set_mappings(
                reloader.active.version, reloader.active.content_hash, reloader.reload_count, reloader.rejected_count
            )
        # /ready's checks, as this sample saw them: the lag probe reached the broker, the
        # backlog query the store, no partition stalled, the store takes writes
        progress = self._telemetry.progress
        ready = (
            lag is not None
            and backlog is not None
            and reloader is not None
            and not progress.stalls
            and progress.store_failure() is None
        )
        self._telemetry.metrics.ready.set(1 if ready else 0)

    async def _lag(self) -> list[PartitionLag] | None:
        try:
            if self._probe is None:
                self._probe = LagProbe(self._telemetry.settings)
                await self._probe.start()
            return await asyncio.wait_for(self._probe.sample(), timeout=self._interval_s * 3)
        except Exception as error:  # noqa: BLE001 - broker down: lag unknown, try afresh later
            log.debug("sample.failed", what="consumer_lag", error_class=type(error).__name__)
            await self._close_probe()
            return None

    async def _close_probe(self) -> None:
        probe, self._probe = self._probe, None
        if probe is not None:
            try:
                await asyncio.wait_for(probe.close(), timeout=5)
            except Exception:  # noqa: BLE001 - closing a client of a dead broker may fail
                pass


async def _backlog(read_engine: AsyncEngine) -> int:
    """Unsent outbox rows, counted on a read connection (never takes SQLite's write lock)."""
    async with read_engine.connect() as conn:
        return int(
            (
                await conn.execute(select(func.count()).select_from(outbox).where(outbox.c.sent_at.is_(None)))
            ).scalar_one()
        )


async def _quietly(awaitable: Any, what: str) -> Any:
    try:
        return await asyncio.wait_for(awaitable, timeout=5)
    except Exception as error:  # noqa: BLE001 - a sample is best effort
        log.debug("sample.failed", what=what, error_class=type(error).__name__)
        return None
