"""Stores of a chosen size for the bridge runs: migrated, then bulk-seeded with SQLAlchemy Core.

``n`` links (case → work order), a record for each end, and ``n`` processed events, with ids that
never collide with the simulator's. SQLite stores are seeded once into a template file and copied
for every run (a copy is much faster than seeding again); PostgreSQL runs get a fresh database.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import sqlite3
from collections.abc import Iterator
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from sqlalchemy import create_engine as create_sync_engine
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import create_async_engine

from bridge.store.migrate import upgrade
from bridge.store.schema import links, processed_events, records

CHUNK = 20_000
_NOW = datetime(2026, 1, 1, tzinfo=timezone.utc)


def _id(kind: str, i: int) -> str:
    return hashlib.blake2b(f"bench-seed:{kind}:{i}".encode(), digest_size=16).hexdigest()


def _rows(n: int) -> Iterator[tuple[list[dict[str, Any]], list[dict[str, Any]], list[dict[str, Any]]]]:
    for start in range(0, n, CHUNK):
        chunk_links, chunk_records, chunk_events = [], [], []
        for i in range(start, min(n, start + CHUNK)):
            case, order = _id("case", i), _id("wo", i)
            chunk_links.append(
                {"kind": "case_work_order", "from_id": case, "to_id": order, "attrs": {}, "created_at": _NOW}
            )
            for sys_id, table, number, source in (
                (case, "sn_customerservice_case", f"CS9{i:09d}", "csm"),
                (order, "wm_order", f"WO9{i:09d}", "fsm"),
            ):
                chunk_records.append(
                    {
                        "sys_id": sys_id,
                        "source": source,
                        "table_name": table,
                        "number": number,
                        "sys_mod_count": 1,
                        "deleted": False,
                        "updated_at": _NOW,
                        "data": {
                            "number": number,
                            "state": "closed_complete",
                            "priority": "4",
                            "short_description": "seeded by the benchmark",
                        },
                    }
                )
            chunk_events.append(
                {
                    "event_id": _id("event", i),
                    "source": "csm",
                    "table_name": "sn_customerservice_case",
                    "sys_id": case,
                    "sys_mod_count": 1,
                    "operation": "update",
                    "action": "",
                    "outcome": "applied",
                    "detail": None,
                    "mapping_version": "seed",
                    "topic": "seed",
                    "partition": 0,
                    "offset": i,
                    "processed_at": _NOW,
                }
            )
        yield chunk_links, chunk_records, chunk_events


def _sync_url(url: str) -> str:
    parsed = make_url(url)
    driver = {"sqlite": "sqlite", "postgresql": "postgresql+psycopg"}[parsed.get_backend_name()]
    return parsed.set(drivername=driver).render_as_string(hide_password=False)


async def seed(url: str, n: int) -> None:
    """Migrate the store at ``url`` and add ``n`` links (plus records and processed events)."""
    await upgrade(url)
    if make_url(url).get_backend_name() == "postgresql":
        engine = create_async_engine(url)
        try:
            for chunk in _rows(n):
                async with engine.begin() as conn:
                    for table, rows in zip((links, records, processed_events), chunk, strict=True):
                        await conn.execute(table.insert(), rows)
            async with engine.connect() as conn:
                await conn.exec_driver_sql("ANALYZE")
        finally:
            await engine.dispose()
        return
    engine = create_sync_engine(_sync_url(url))
    try:
        with engine.begin() as conn:
            conn.exec_driver_sql("PRAGMA synchronous=OFF")
            for chunk in _rows(n):
                for table, rows in zip((links, records, processed_events), chunk, strict=True):
                    conn.execute(table.insert(), rows)
        with engine.connect() as conn:
            conn.exec_driver_sql("ANALYZE")
    finally:
        engine.dispose()
    _checkpoint(make_url(url).database or "")


def _checkpoint(path: str) -> None:
    """Fold the WAL into the main file so that a plain file copy is the whole store."""
    with sqlite3.connect(path) as conn:
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")


class SqliteTemplates:
    """One seeded SQLite file per store size, copied for each run."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self._templates: dict[int, Path] = {}

    async def copy(self, n: int, name: str) -> str:
        """A fresh copy of the ``n``-link store; returns its SQLAlchemy URL."""
        if n not in self._templates:
            template = self.directory / f"template-{n}.db"
            await seed(f"sqlite+aiosqlite:///{template}", n)
            self._templates[n] = template
        target = self.directory / f"{name}.db"
        shutil.copyfile(self._templates[n], target)
        # Written back before the run starts: a 1 GB copy still flushing would slow the run's
        # own fsyncs, a cost of the harness and not of the store's size.
        with open(target, "rb+") as copied:
            os.fsync(copied.fileno())
        return f"sqlite+aiosqlite:///{target}"
