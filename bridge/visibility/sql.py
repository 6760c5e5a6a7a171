"""Small dialect helpers shared by the index's statements (SQLite and PostgreSQL)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from functools import cache
from typing import Any

from sqlalchemy import Table, delete
from sqlalchemy.ext.asyncio import AsyncConnection

from bridge.store.bulk import execute_many
from bridge.store.sql import IDS, chunks, dialect_insert

__all__ = ["chunks", "delete_by_ids", "insert_rows", "upsert_rows"]


async def insert_rows(conn: AsyncConnection, table: Table, rows: Sequence[dict]) -> None:
    for batch in chunks(rows, 500):
        await execute_many(conn, _insert(table), batch)


@cache
def _insert(table: Table) -> Any:
    return table.insert()


@cache
def _upsert(dialect_name: str, table: Table) -> Any:
    stmt = dialect_insert(dialect_name, table)
    return stmt.on_conflict_do_update(
        index_elements=list(table.primary_key.columns),
        set_={c.name: stmt.excluded[c.name] for c in table.columns if not c.primary_key})


@cache
def _delete_by_ids(table: Table) -> Any:
    return delete(table).where(table.c.sys_id.in_(IDS))


async def upsert_rows(conn: AsyncConnection, table: Table, rows: Sequence[dict]) -> None:
    """Insert rows or replace every column of the rows with the same primary key."""
    for batch in chunks(rows, 500):
        await execute_many(conn, _upsert(conn.dialect.name, table), batch)


async def delete_by_ids(conn: AsyncConnection, table: Table, sys_ids: Iterable[str]) -> None:
    for batch in chunks(sys_ids):
        await conn.execute(_delete_by_ids(table), {"ids": batch})
