"""SQLAlchemy engines on the store, for everything but the batch path: the portal and the
status page (readers), the migrations and the operators' tools.

The batch path has its own access layer (``bridge.store.batch_store``). Engines here are set up
like it: on SQLite WAL, a busy timeout, ``synchronous=FULL``, foreign keys on, and ``BEGIN
IMMEDIATE`` for writers (a deferred transaction that upgrades from read to write fails at once
with "database is locked", ignoring the busy timeout), emitted the way SQLAlchemy documents for
the SQLite drivers: the driver's own transaction handling off, ``BEGIN`` ours.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import Connection, make_url
from sqlalchemy.engine.interfaces import DBAPIConnection
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine
from sqlalchemy.pool import ConnectionPoolEntry

from bridge.settings import StoreSettings
from connectors.common import jsoncodec

#: JSON columns (records, links, outbox headers) are written and read often.
_JSON = {"json_serializer": jsoncodec.dumps, "json_deserializer": jsoncodec.loads}


def is_sqlite(url: str) -> bool:
    return make_url(url).get_backend_name() == "sqlite"


def create_engine(
    url: str, *, writer: bool = True, busy_timeout_ms: int = 10_000, wal_autocheckpoint: int | None = None
) -> AsyncEngine:
    """An async engine; ``writer`` engines take SQLite's write lock when a transaction begins.

    ``wal_autocheckpoint``: the log size (pages) at which SQLite checkpoints inside a commit.
    """
    if not is_sqlite(url):
        return create_async_engine(url, pool_pre_ping=True, pool_size=5, max_overflow=5, **_JSON)
    engine = create_async_engine(url, connect_args={"timeout": busy_timeout_ms / 1000}, **_JSON)
    pragmas = ["journal_mode=WAL", f"busy_timeout={busy_timeout_ms}", "synchronous=FULL", "foreign_keys=ON"]
    if wal_autocheckpoint is not None:
        pragmas += [
            f"wal_autocheckpoint={int(wal_autocheckpoint)}",
            f"journal_size_limit={int(wal_autocheckpoint) * 4096}",
        ]
    begin = "BEGIN IMMEDIATE" if writer else "BEGIN"

    @event.listens_for(engine.sync_engine, "connect")
    def _configure(dbapi_connection: DBAPIConnection, _record: ConnectionPoolEntry) -> None:
        dbapi_connection.isolation_level = None  # BEGIN is ours to emit (below)
        cursor = dbapi_connection.cursor()
        for pragma in pragmas:
            cursor.execute(f"PRAGMA {pragma}")
        cursor.close()

    @event.listens_for(engine.sync_engine, "begin")
    def _begin(conn: Connection) -> None:
        conn.exec_driver_sql(begin)

    return engine


def store_engine(store: StoreSettings, *, writer: bool = True, **options: Any) -> AsyncEngine:
    """The engine of the configured store, its settings applied (``options`` override them)."""
    return create_engine(store.url, writer=writer, **{"busy_timeout_ms": store.busy_timeout_ms, **options})
