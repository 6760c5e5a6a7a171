"""The one-trip SQLite adapter behaves as SQLAlchemy's aiosqlite dialect does, in one trip to
aiosqlite's thread per statement."""

from __future__ import annotations

from pathlib import Path

import aiosqlite
import pytest
from sqlalchemy import text
from sqlalchemy.exc import IntegrityError, OperationalError

from bridge.store.engine import create_engine
from bridge.store.sqlite_driver import DRIVER


async def test_statements_rows_counts_and_errors(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    engine = create_engine(f"sqlite+aiosqlite:///{tmp_path / 'x.db'}")
    assert engine.dialect.driver == DRIVER and engine.dialect.name == "sqlite"
    try:
        async with engine.begin() as conn:
            await conn.execute(text("CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT UNIQUE)"))
            inserted = await conn.execute(text("INSERT INTO t (v) VALUES ('a')"))
            assert inserted.lastrowid == 1 and inserted.rowcount == 1
            await conn.execute(text("INSERT INTO t (v) VALUES (:v)"), [{"v": "b"}, {"v": "c"}])

            trips = 0
            real = aiosqlite.Connection._execute

            async def counted(self, fn, *args, **kwargs):  # type: ignore[no-untyped-def]
                nonlocal trips
                trips += 1
                return await real(self, fn, *args, **kwargs)

            monkeypatch.setattr(aiosqlite.Connection, "_execute", counted)
            rows = (await conn.execute(text("SELECT id, v FROM t ORDER BY id"))).all()
            assert rows == [(1, "a"), (2, "b"), (3, "c")]
            assert trips == 1
            assert (await conn.execute(text("UPDATE t SET v = v || '!' WHERE id > 1"))).rowcount == 2
            monkeypatch.undo()

            with pytest.raises(IntegrityError):
                async with conn.begin_nested():  # a savepoint: the transaction goes on
                    await conn.execute(text("INSERT INTO t (v) VALUES ('a')"))
            with pytest.raises(OperationalError):
                await conn.execute(text("SELECT * FROM missing"))
        async with engine.connect() as conn:
            assert (await conn.execute(text("SELECT count(*) FROM t"))).scalar_one() == 3
    finally:
        await engine.dispose()
