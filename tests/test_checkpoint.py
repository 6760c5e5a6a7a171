"""WAL checkpoints run beside the batches: commits no longer checkpoint at 1,000 pages, and the
bridge's own checkpoint copies the WAL into the database."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import text

from bridge.store.checkpoint import WAL_AUTOCHECKPOINT_PAGES, checkpoint
from bridge.store.engine import create_engine


async def test_commits_leave_checkpoints_to_the_bridge(tmp_path: Path) -> None:
    engine = create_engine(f"sqlite+aiosqlite:///{tmp_path / 'store.db'}")
    try:
        async with engine.begin() as conn:
            assert (await conn.exec_driver_sql("PRAGMA wal_autocheckpoint")).scalar_one() == WAL_AUTOCHECKPOINT_PAGES
            await conn.execute(text("CREATE TABLE blobs (id INTEGER PRIMARY KEY, body BLOB)"))
        for _ in range(6):  # ~1,500 pages of 4 KiB in six commits
            async with engine.begin() as conn:
                await conn.execute(text("INSERT INTO blobs (body) VALUES (randomblob(4000))"),
                                   [{}] * 250)
        wal = tmp_path / "store.db-wal"
        assert wal.stat().st_size > 1_000 * 4096  # SQLite's default would have checkpointed

        busy, wal_pages, copied = await checkpoint(engine)
        assert busy == 0 and wal_pages > 1_000 and copied == wal_pages
        async with engine.connect() as conn:
            assert (await conn.execute(text("SELECT count(*) FROM blobs"))).scalar_one() == 1500
    finally:
        await engine.dispose()
