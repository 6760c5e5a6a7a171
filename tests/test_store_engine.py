"""The store's settings reach every SQLite connection the bridge opens."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import text

from bridge.settings import StoreSettings
from bridge.store.engine import store_engine


async def _pragmas(engine, *names: str) -> dict[str, int]:  # type: ignore[no-untyped-def]
    async with engine.connect() as conn:
        return {n: (await conn.execute(text(f"PRAGMA {n}"))).scalar_one() for n in names}


@pytest.mark.parametrize("writer", [True, False], ids=["writer", "reader"])
async def test_store_settings_apply_to_writers_and_readers(tmp_path: Path, writer: bool) -> None:
    store = StoreSettings(url=f"sqlite+aiosqlite:///{tmp_path / 'x.db'}", busy_timeout_ms=1234)
    engine = store_engine(store, writer=writer)
    try:
        assert await _pragmas(
            engine, "busy_timeout", "journal_mode", "synchronous", "foreign_keys", "wal_autocheckpoint"
        ) == {
            "busy_timeout": 1234,
            "journal_mode": "wal",
            "synchronous": 2,  # 2 = FULL
            "foreign_keys": 1,
            "wal_autocheckpoint": 1000,
        }  # SQLite's own checkpoints
    finally:
        await engine.dispose()


async def test_options_override_the_settings(tmp_path: Path) -> None:
    store = StoreSettings(url=f"sqlite+aiosqlite:///{tmp_path / 'x.db'}")
    engine = store_engine(store, busy_timeout_ms=2000, wal_autocheckpoint=5000)
    try:
        assert await _pragmas(engine, "busy_timeout", "wal_autocheckpoint", "journal_size_limit") == {
            "busy_timeout": 2000,
            "wal_autocheckpoint": 5000,
            "journal_size_limit": 5000 * 4096,
        }
    finally:
        await engine.dispose()
