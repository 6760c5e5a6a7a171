"""The index's writes as plan operations (``bridge.store.plan``), one prepared statement per
table and kind of write, on SQLite and PostgreSQL alike."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from functools import cache
from typing import Any

from sqlalchemy import Table, delete
from sqlalchemy.ext.asyncio import AsyncConnection

from bridge.store.plan import Execute, ExecuteMany, Plan, run_sqlalchemy
from bridge.store.sql import Statement, chunks, id_list
from bridge.store.sql import insert_rows as insert_statement

__all__ = ["chunks", "delete_by_ids", "insert_rows", "upsert", "upsert_rows"]

ROWS_PER_STATEMENT = 500


@cache
def _insert(table: Table) -> Statement:
    return Statement(f"{table.name}_insert", lambda d: insert_statement(d, table))


@cache
def _upsert(table: Table) -> Statement:
    def build(dialect_name: str) -> Any:
        stmt = insert_statement(dialect_name, table)
        return stmt.on_conflict_do_update(
            index_elements=list(table.primary_key.columns),
            set_={c.name: stmt.excluded[c.name] for c in table.columns if not c.primary_key},
        )

    return Statement(f"{table.name}_upsert", build)


@cache
def _delete_by_ids(table: Table) -> Statement:
    return Statement(
        f"{table.name}_delete", lambda d: delete(table).where(table.c.sys_id.in_(id_list("ids", d))), "ids"
    )


def upsert(table: Table, rows: Sequence[dict[str, Any]]) -> Plan[None]:
    """Insert rows or replace every column of the rows with the same primary key."""
    for batch in chunks(rows, ROWS_PER_STATEMENT):
        yield ExecuteMany(_upsert(table), batch)


def delete_by_ids(table: Table, sys_ids: Iterable[str]) -> Plan[None]:
    ids = list(sys_ids)
    if ids:
        yield Execute(_delete_by_ids(table), {"ids": ids})


def _insert_plan(table: Table, rows: Sequence[dict[str, Any]]) -> Plan[None]:
    for batch in chunks(rows, ROWS_PER_STATEMENT):
        yield ExecuteMany(_insert(table), batch)


async def insert_rows(conn: AsyncConnection, table: Table, rows: Sequence[dict[str, Any]]) -> None:
    """Insert rows through a SQLAlchemy connection (the rebuild)."""
    await run_sqlalchemy(conn, _insert_plan(table, rows))


async def upsert_rows(conn: AsyncConnection, table: Table, rows: Sequence[dict[str, Any]]) -> None:
    """``upsert`` through a SQLAlchemy connection."""
    await run_sqlalchemy(conn, upsert(table, rows))
