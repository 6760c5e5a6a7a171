"""SQLite WAL checkpoints beside the batches instead of inside them.

By default SQLite checkpoints inside the commit that takes the WAL past 1,000 pages: that batch
waits while pages are copied into the database file and synced, a wait that grows with the
store (scattered pages in a large file). The bridge raises the automatic threshold to a safety
net (``WAL_AUTOCHECKPOINT_PAGES``, set on every connection by ``create_engine``) and runs a
PASSIVE checkpoint every second from a task of its own, on its own connection and thread: it
never waits for the writer or readers, and batches no longer wait for it. Durability is
unchanged: every commit still syncs the WAL.
"""

from __future__ import annotations

import asyncio

import structlog
from sqlalchemy.ext.asyncio import AsyncEngine

log = structlog.get_logger("bridge.store.checkpoint")

#: Pages (4 KiB) the WAL may reach before a commit checkpoints by itself (about 40 MiB).
WAL_AUTOCHECKPOINT_PAGES = 10_000


async def checkpoint(engine: AsyncEngine) -> tuple[int, int, int]:
    """One PASSIVE checkpoint: (busy, pages in the WAL, pages copied), SQLite's own figures."""
    async with engine.connect() as conn:
        # On the driver's connection: SQLAlchemy would open a transaction, in which SQLite
        # cannot checkpoint.
        raw = await conn.get_raw_connection()
        cursor = await raw.driver_connection.execute("PRAGMA wal_checkpoint(PASSIVE)")
        try:
            busy, wal_pages, copied = await cursor.fetchone()
        finally:
            await cursor.close()
    return busy, wal_pages, copied


async def checkpoint_loop(engine: AsyncEngine, interval_s: float = 1.0) -> None:
    """Checkpoint every ``interval_s`` until cancelled; failures are logged, never fatal."""
    while True:
        await asyncio.sleep(interval_s)
        try:
            await checkpoint(engine)
        except Exception as error:  # noqa: BLE001 - the automatic checkpoint is the fallback
            log.warning("store.checkpoint_failed", error_class=type(error).__name__)
