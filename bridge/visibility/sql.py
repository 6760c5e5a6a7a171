"""Small dialect helpers shared by the index's statements (SQLite and PostgreSQL)."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from typing import TypeVar

from sqlalchemy import Table
from sqlalchemy.ext.asyncio import AsyncConnection

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


async def insert_rows(conn: AsyncConnection, table: Table, rows: Sequence[dict]) -> None:
    for batch in chunks(rows, 500):
        await conn.execute(table.insert(), batch)
