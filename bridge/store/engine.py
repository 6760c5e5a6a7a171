"""Engines for the store: SQLite (embedded default) or PostgreSQL.

SQLite is set up for a single writer that must never lose an acknowledged batch: WAL, a busy
timeout, ``synchronous=FULL`` (offsets are committed after our commit, so the commit must be
durable), foreign keys on, and ``BEGIN IMMEDIATE`` for write transactions — a deferred
transaction that upgrades from read to write fails at once with "database is locked", ignoring
the busy timeout.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import URL, make_url
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from bridge.settings import StoreSettings
from bridge.store import sqlite_driver
from connectors.common import jsoncodec

#: JSON columns (records, links, outbox headers) are written and read on every batch.
_JSON = {"json_serializer": jsoncodec.dumps, "json_deserializer": jsoncodec.loads}


def is_sqlite(url: str) -> bool:
    return make_url(url).get_backend_name() == "sqlite"


def _one_trip(url: str) -> URL:
    """``sqlite+aiosqlite`` URLs run on the one-trip adapter of the same driver."""
    parsed = make_url(url)
    return parsed.set(drivername=f"sqlite+{sqlite_driver.DRIVER}") if parsed.drivername == "sqlite+aiosqlite" else parsed


def create_engine(url: str, *, writer: bool = True, busy_timeout_ms: int = 10_000,
                  wal_autocheckpoint: int | None = None) -> AsyncEngine:
    """An async engine; ``writer`` engines take SQLite's write lock when a transaction begins.

    ``wal_autocheckpoint``: the log size (pages) at which SQLite checkpoints inside a commit;
    raise it when a :class:`bridge.store.checkpoint.WalCheckpointer` runs beside the writer.
    """
    if not is_sqlite(url):
        return create_async_engine(url, pool_pre_ping=True, pool_size=5, max_overflow=5, **_JSON)
    # The writer's statements run inline (see sqlite_driver): its batches are all CPU and tiny
    # statements. Readers (the portal) keep aiosqlite's thread: a long query never stalls the loop.
    # The adapter emits the BEGIN (its dialect's `do_begin`, where SQLAlchemy translates errors).
    connect_args = {"timeout": busy_timeout_ms / 1000, "bridge_inline": writer,
                    "bridge_begin": "BEGIN IMMEDIATE" if writer else "BEGIN"}
    engine = create_async_engine(_one_trip(url), connect_args=connect_args, **_JSON)
    pragmas = ["journal_mode=WAL", f"busy_timeout={busy_timeout_ms}", "synchronous=FULL",
               "foreign_keys=ON"]
    if wal_autocheckpoint is not None:
        # Also cut the log file back to that size when it starts over, after a burst.
        pragmas += [f"wal_autocheckpoint={int(wal_autocheckpoint)}",
                    f"journal_size_limit={int(wal_autocheckpoint) * 4096}"]

    @event.listens_for(engine.sync_engine, "connect")
    def _configure(dbapi_connection, _record) -> None:  # type: ignore[no-untyped-def]
        # Take transaction control from the driver so that BEGIN is ours to emit.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        for pragma in pragmas:
            cursor.execute(f"PRAGMA {pragma}")
        cursor.close()

    return engine


def store_engine(store: StoreSettings, *, writer: bool = True, **options: Any) -> AsyncEngine:
    """The engine of the configured store, its settings applied (``options`` override them)."""
    return create_engine(store.url, writer=writer, **{
        "busy_timeout_ms": store.busy_timeout_ms, **options})
