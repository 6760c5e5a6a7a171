"""Small dialect helpers shared by the index's statements (SQLite and PostgreSQL)."""

from __future__ import annotations

from typing import Iterable, Iterator, Sequence, TypeVar

from sqlalchemy import Table
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncConnection
from sqlalchemy.sql.dml import Insert

T = TypeVar("T")

#: Bound parameters per statement stay far below SQLite's and asyncpg's limits (~32k).
CHUNK = 2000


def chunks(items: Iterable[T], size: int = CHUNK) -> Iterator[list[T]]:
    batch: list[T] = []
    for item in items:
        batch.append(item)
        if len(batch) == size:
            yield batch
            batch = []
    if batch:
        yield batch


def insert_ignoring_duplicates(conn: AsyncConnection, table: Table) -> Insert:
    """``INSERT … ON CONFLICT DO NOTHING`` in the connection's dialect."""
    dialect = postgresql if conn.dialect.name == "postgresql" else sqlite
    return dialect.insert(table).on_conflict_do_nothing()


async def insert_rows(conn: AsyncConnection, table: Table, rows: Sequence[dict]) -> None:
    for batch in chunks(rows, 500):
        await conn.execute(table.insert(), batch)
