"""The SQLite adapter behaves as SQLAlchemy's aiosqlite dialect does: readers in one trip to
aiosqlite's thread per statement, the writer inline (no trip) except for ``BEGIN``."""

from __future__ import annotations

import asyncio
import sqlite3
from pathlib import Path

import aiosqlite
import pytest
from sqlalchemy import text
from sqlalchemy.exc import IntegrityError, OperationalError

from bridge.store.engine import create_engine
from bridge.store.sqlite_driver import DRIVER


@pytest.fixture
def trips(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """How many functions were queued for aiosqlite's thread (one counter, read as trips[0])."""
    counter = [0]
    real = aiosqlite.Connection._execute

    async def counted(self, fn, *args, **kwargs):  # type: ignore[no-untyped-def]
        counter[0] += 1
        return await real(self, fn, *args, **kwargs)

    monkeypatch.setattr(aiosqlite.Connection, "_execute", counted)
    return counter


class _Ticker:
    """Counts the event loop's turns while it is open (a stand-in for heartbeats and HTTP)."""

    def __init__(self, every_s: float = 0.0) -> None:
        self.every_s, self.ticks = every_s, 0

    async def _run(self) -> None:
        while True:
            await asyncio.sleep(self.every_s)
            self.ticks += 1

    async def __aenter__(self) -> "_Ticker":
        self._task = asyncio.create_task(self._run())
        await asyncio.sleep(0)
        return self

    async def __aexit__(self, *exc: object) -> None:
        self._task.cancel()


@pytest.mark.parametrize("writer", [True, False], ids=["writer-inline", "reader-one-trip"])
async def test_statements_rows_counts_and_errors(tmp_path: Path, trips: list[int],
                                                 writer: bool) -> None:
    path = tmp_path / "x.db"
    sqlite3.connect(path).executescript(
        "CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT UNIQUE);"
        "INSERT INTO t (v) VALUES ('a'), ('b'), ('c');").close()
    engine = create_engine(f"sqlite+aiosqlite:///{path}", writer=writer)
    assert engine.dialect.driver == DRIVER and engine.dialect.name == "sqlite"
    try:
        async with engine.connect():
            pass  # the pool's connection is opened (in aiosqlite's thread)
        trips[0] = 0
        async with engine.begin() as conn:
            rows = (await conn.execute(text("SELECT id, v FROM t ORDER BY id"))).all()
            assert rows == [(1, "a"), (2, "b"), (3, "c")]
            assert trips[0] == (0 if writer else 2)  # BEGIN and the SELECT
            if writer:
                inserted = await conn.execute(text("INSERT INTO t (v) VALUES ('d')"))
                assert inserted.lastrowid == 4 and inserted.rowcount == 1
                await conn.execute(text("INSERT INTO t (v) VALUES (:v)"), [{"v": "e"}, {"v": "f"}])
                updated = await conn.execute(text("UPDATE t SET v = v || '!' WHERE id > 4"))
                assert updated.rowcount == 2
                with pytest.raises(IntegrityError):
                    async with conn.begin_nested():  # a savepoint: the transaction goes on
                        await conn.execute(text("INSERT INTO t (v) VALUES ('a')"))
                assert trips[0] == 0
            with pytest.raises(OperationalError):
                await conn.execute(text("SELECT * FROM missing"))
        async with engine.connect() as conn:
            count = (await conn.execute(text("SELECT count(*) FROM t"))).scalar_one()
            assert count == (6 if writer else 3)
    finally:
        await engine.dispose()


async def test_inline_writer_commits_and_rolls_back(tmp_path: Path) -> None:
    path = tmp_path / "x.db"
    engine = create_engine(f"sqlite+aiosqlite:///{path}")
    try:
        async with engine.begin() as conn:
            await conn.execute(text("CREATE TABLE t (v TEXT)"))
        async with engine.connect() as conn:
            transaction = await conn.begin()
            await conn.execute(text("INSERT INTO t VALUES ('kept')"))
            await transaction.commit()
            transaction = await conn.begin()
            await conn.execute(text("INSERT INTO t VALUES ('undone')"))
            await transaction.rollback()
    finally:
        await engine.dispose()
    # Another process's view: only the committed row is on disk.
    with sqlite3.connect(path) as other:
        assert other.execute("SELECT v FROM t").fetchall() == [("kept",)]


async def test_waiting_for_the_write_lock_does_not_stall_the_event_loop(tmp_path: Path) -> None:
    """Another process holds the write lock: the writer's BEGIN waits in aiosqlite's thread (busy
    timeout) while the event loop goes on serving everything else (heartbeats, HTTP)."""
    path = tmp_path / "x.db"
    holder = sqlite3.connect(path, isolation_level=None)
    holder.execute("PRAGMA journal_mode=WAL")
    holder.execute("CREATE TABLE t (v TEXT)")
    holder.execute("BEGIN IMMEDIATE")
    engine = create_engine(f"sqlite+aiosqlite:///{path}", busy_timeout_ms=5_000)

    async def write() -> None:
        async with engine.begin() as conn:
            await conn.execute(text("INSERT INTO t VALUES ('after the lock')"))

    try:
        async with _Ticker(every_s=0.01) as ticker:
            writing = asyncio.create_task(write())
            await asyncio.sleep(0.5)
            assert not writing.done() and ticker.ticks >= 20  # the loop ran while BEGIN waited
            holder.execute("COMMIT")
            await asyncio.wait_for(writing, 5)
    finally:
        holder.close()
        await engine.dispose()
    with sqlite3.connect(path) as other:
        assert other.execute("SELECT v FROM t").fetchall() == [("after the lock",)]


async def test_a_long_run_of_inline_statements_gives_the_event_loop_turns(tmp_path: Path) -> None:
    """A big batch is thousands of inline statements: the loop still runs heartbeats and HTTP."""
    engine = create_engine(f"sqlite+aiosqlite:///{tmp_path / 'x.db'}")
    try:
        async with engine.begin() as conn:
            await conn.execute(text("CREATE TABLE t (v INTEGER)"))
        async with _Ticker() as ticker, engine.begin() as conn:
            started, seen = asyncio.get_running_loop().time(), ticker.ticks
            while asyncio.get_running_loop().time() - started < 0.6:
                await conn.execute(text("INSERT INTO t VALUES (1)"))
            turns = ticker.ticks - seen
    finally:
        await engine.dispose()
    assert turns >= 6  # one at least every 50 ms of the 600 ms
