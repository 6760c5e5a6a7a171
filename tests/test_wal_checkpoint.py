"""The write-ahead log is checkpointed beside the writer: the writer's commits only append to the
log, the checkpointer copies it back without waiting for anyone, and the log starts over."""

from __future__ import annotations

import asyncio
import sqlite3
from pathlib import Path

import pytest
from sqlalchemy import text

from bridge.store.checkpoint import BACKSTOP_PAGES, WalCheckpointer, checkpointer_for
from bridge.store.engine import create_engine

PAGE = 4096
ROW = 3000  # bytes per row: more than half a page, so each row fills a page of its own


def _new_db(tmp_path: Path, journal_mode: str = "WAL") -> Path:
    path = tmp_path / "x.db"
    conn = sqlite3.connect(path)
    conn.executescript(f"PRAGMA journal_mode={journal_mode}; CREATE TABLE t (id INTEGER PRIMARY KEY, v BLOB);")
    conn.close()
    return path


async def _write(engine, rows: int, start: int = 0) -> None:  # type: ignore[no-untyped-def]
    async with engine.begin() as conn:
        await conn.execute(
            text("INSERT INTO t (id, v) VALUES (:id, randomblob(:n))"),
            [{"id": start + i, "n": ROW} for i in range(rows)],
        )


def _wal_pages(path: Path) -> int:
    wal = path.with_name(path.name + "-wal")
    return wal.stat().st_size // PAGE if wal.exists() else 0


@pytest.mark.parametrize("backstop", [None, BACKSTOP_PAGES], ids=["sqlite-default", "backstop"])
async def test_with_the_backstop_the_writers_commits_never_checkpoint(tmp_path: Path, backstop: int | None) -> None:
    path = _new_db(tmp_path)
    size_before = path.stat().st_size
    engine = create_engine(f"sqlite+aiosqlite:///{path}", wal_autocheckpoint=backstop)
    try:
        for batch in range(3):  # 1,500 pages: past SQLite's default threshold of 1,000
            await _write(engine, 500, start=batch * 500)
        if backstop is None:
            assert path.stat().st_size > size_before + 1000 * PAGE  # copied inside a commit
        else:
            assert path.stat().st_size == size_before  # the log holds it all
            assert _wal_pages(path) >= 1500
    finally:
        await engine.dispose()  # the last connection to close checkpoints


async def test_the_checkpointer_copies_the_log_back_and_the_log_starts_over(tmp_path: Path) -> None:
    path = _new_db(tmp_path, journal_mode="DELETE")  # a new store: not yet in WAL mode
    checkpointer = WalCheckpointer(str(path), interval_s=60)
    assert checkpointer.checkpoint().log_pages == 0  # started before the writer's first connection
    engine = create_engine(f"sqlite+aiosqlite:///{path}", wal_autocheckpoint=BACKSTOP_PAGES)
    try:
        await _write(engine, 1200)
        first = checkpointer.checkpoint()
        assert not first.busy and first.log_pages >= 1200
        assert first.checkpointed_pages == first.log_pages
        assert path.stat().st_size > 1200 * PAGE  # now in the database file

        await _write(engine, 10, start=5000)  # the next writer starts the log over
        second = checkpointer.checkpoint()
        assert 10 <= second.log_pages < 100 and second.checkpointed_pages == second.log_pages
        # The log file was cut back to the size limit, not left at its largest.
        assert _wal_pages(path) <= BACKSTOP_PAGES

        async with engine.connect() as conn:  # nothing lost on the way
            count = (await conn.execute(text("SELECT count(*) FROM t"))).scalar_one()
        assert count == 1210
    finally:
        checkpointer.close()
        await engine.dispose()


async def test_a_reader_holding_an_old_snapshot_makes_it_stop_early_not_wait(tmp_path: Path) -> None:
    path = _new_db(tmp_path)
    engine = create_engine(f"sqlite+aiosqlite:///{path}", wal_autocheckpoint=BACKSTOP_PAGES)
    checkpointer = WalCheckpointer(str(path), interval_s=60)
    reader = sqlite3.connect(path, isolation_level=None)
    try:
        await _write(engine, 50)
        reader.execute("BEGIN")
        assert reader.execute("SELECT count(*) FROM t").fetchone() == (50,)  # snapshot held
        await _write(engine, 50, start=50)
        result = await asyncio.wait_for(asyncio.to_thread(checkpointer.checkpoint), timeout=5)
        assert result.log_pages >= 100 and 0 < result.checkpointed_pages < result.log_pages
        await _write(engine, 50, start=100)  # and the writer was never held up
        reader.execute("COMMIT")
        assert checkpointer.checkpoint().checkpointed_pages == checkpointer.checkpoint().log_pages
    finally:
        reader.close()
        checkpointer.close()
        await engine.dispose()


async def test_run_checkpoints_until_told_to_stop_and_outlives_failures(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    missing = tmp_path / "gone.db"
    failing = WalCheckpointer(str(missing), interval_s=0.01)
    path = _new_db(tmp_path)
    engine = create_engine(f"sqlite+aiosqlite:///{path}", wal_autocheckpoint=BACKSTOP_PAGES)
    working = WalCheckpointer(str(path), interval_s=0.01)
    stop = asyncio.Event()
    tasks = [asyncio.create_task(c.run(stop)) for c in (failing, working)]
    try:
        await _write(engine, 20)
        for _ in range(500):
            await asyncio.sleep(0.01)
            if working.last is not None and working.last.checkpointed_pages >= 20:
                break
        assert working.last is not None and working.last.checkpointed_pages >= 20
        assert failing.last is None and not tasks[0].done()  # logged and retried, not raised
        assert not missing.exists()  # never creates an empty database in its place
    finally:
        stop.set()
        await asyncio.wait_for(asyncio.gather(*tasks), timeout=5)
        await engine.dispose()


def test_only_sqlite_files_get_a_checkpointer() -> None:
    assert checkpointer_for("sqlite+aiosqlite:///data/bridge.db", 500) is not None
    assert checkpointer_for("sqlite+aiosqlite:///data/bridge.db", 0) is None
    assert checkpointer_for("sqlite+aiosqlite://", 500) is None
    assert checkpointer_for("sqlite+aiosqlite:///:memory:", 500) is None
    assert checkpointer_for("postgresql+asyncpg://u:p@127.0.0.1/bridge", 500) is None


async def test_it_checkpoints_when_a_batch_ends_not_in_the_middle_of_the_next(tmp_path: Path) -> None:
    path = _new_db(tmp_path)
    engine = create_engine(f"sqlite+aiosqlite:///{path}", wal_autocheckpoint=BACKSTOP_PAGES)
    interval = 3.0
    checkpointer = WalCheckpointer(str(path), interval_s=interval)
    stop = asyncio.Event()
    await _write(engine, 20)
    loop = asyncio.get_running_loop()
    began = loop.time()
    task = asyncio.create_task(checkpointer.run(stop))
    try:
        await asyncio.sleep(interval + 0.3)  # the interval is over (the loop's clock says so)
        for _ in range(20):  # and the loop has turned since: the checkpointer has seen it end
            await asyncio.sleep(0)
        assert checkpointer.last is None  # it waits for a batch to end
        checkpointer.on_batch(None, 20, 0.01)  # what the runtime calls after commit and publish
        # At once: before the idle fallback could fire (a further interval after the first,
        # measured on the same clock), however slowly the machine runs until then.
        while checkpointer.last is None:
            assert loop.time() < began + 2 * interval, "no checkpoint before the idle fallback"
            await asyncio.sleep(0.01)
        assert checkpointer.last.checkpointed_pages >= 20
    finally:
        stop.set()
        await asyncio.wait_for(task, timeout=5)
        await engine.dispose()


@pytest.mark.parametrize("worker", [True, False], ids=["with-checkpointer", "backstop-alone"])
async def test_under_steady_writes_the_log_cycles_within_the_backstop(tmp_path: Path, worker: bool) -> None:
    path = _new_db(tmp_path)
    backstop, batch = 400, 50  # pages; BACKSTOP_PAGES scaled down
    engine = create_engine(f"sqlite+aiosqlite:///{path}", wal_autocheckpoint=backstop)
    checkpointer = WalCheckpointer(str(path), interval_s=0.01)
    stop = asyncio.Event()
    task = asyncio.create_task(checkpointer.run(stop)) if worker else None
    largest = 0
    try:
        for n in range(60):  # 3,000 pages in all, batch after batch: the log must start over
            await _write(engine, batch, start=n * batch)
            checkpointer.on_batch(None, batch, 0.0)
            await asyncio.sleep(0)
            largest = max(largest, _wal_pages(path))
        # Bounded: the backstop's checkpoint starts the log over. One that meets the worker's
        # checkpoint is skipped and tried again at the next commit, so the log may run a batch
        # or two past the backstop; without a backstop it would reach 3,000 pages.
        assert largest <= backstop + 3 * batch
        async with engine.connect() as conn:
            assert (await conn.execute(text("SELECT count(*) FROM t"))).scalar_one() == 3000
    finally:
        stop.set()
        if task is not None:
            await asyncio.wait_for(task, timeout=5)
        await engine.dispose()
