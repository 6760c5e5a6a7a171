"""Rebuilding the index from the stored records, and checking the incremental index."""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncConnection

from bridge.store.schema import records
from bridge.visibility import scopes
from bridge.visibility.model import Row, expected_index, row_tuple
from bridge.visibility.records import INDEX_TABLE_OF, index_row
from bridge.visibility.schema import INDEX_TABLES, vis_users
from bridge.visibility.sql import insert_rows

PAGE = 5000


@dataclass(frozen=True, slots=True)
class Difference:
    """A row the index has but should not (``expected`` None) or lacks or has wrong."""

    table: str
    key: tuple[Any, ...]
    expected: Row | None
    actual: Row | None

    def __str__(self) -> str:
        return f"{self.table} {self.key}: expected {self.expected}, found {self.actual}"


async def stored_records(conn: AsyncConnection) -> AsyncIterator[tuple[str, str, Mapping[str, Any]]]:
    """The live (not deleted) records of the tables the index keeps, page by page."""
    after = ""
    while True:
        page = (
            await conn.execute(
                select(records.c.sys_id, records.c.table_name, records.c.data)
                .where(
                    records.c.table_name.in_(list(INDEX_TABLE_OF)),
                    records.c.deleted.is_(False),
                    records.c.sys_id > after,
                )
                .order_by(records.c.sys_id)
                .limit(PAGE)
            )
        ).all()
        for row in page:
            yield row.table_name, row.sys_id, row.data
        if len(page) < PAGE:
            return
        after = page[-1].sys_id


async def rebuild(conn: AsyncConnection) -> None:
    """Replace the whole index with one computed from the ``records`` table."""
    for table in INDEX_TABLES:
        await conn.execute(delete(table))
    pending: dict[str, list[dict[str, Any]]] = {}
    async for table_name, sys_id, data in stored_records(conn):
        table = INDEX_TABLE_OF[table_name]
        pending.setdefault(table.name, []).append(index_row(table_name, sys_id, data))
        if len(pending[table.name]) >= PAGE:
            await insert_rows(conn, table, pending.pop(table.name))
    for table in INDEX_TABLES:
        await insert_rows(conn, table, pending.pop(table.name, []))
    await scopes.recompute(conn, set(await conn.scalars(select(vis_users.c.sys_id))))


async def check(conn: AsyncConnection) -> list[Difference]:
    """Compare the index with one computed from the records; an empty list means consistent."""
    expected = expected_index([item async for item in stored_records(conn)])
    differences: list[Difference] = []
    for table in INDEX_TABLES:
        key_width = len(table.primary_key.columns)
        actual = {row_tuple(table, row) for row in (await conn.execute(select(table))).mappings()}
        wanted = {row[:key_width]: row for row in expected[table.name]}
        found = {row[:key_width]: row for row in actual}
        for key in sorted(wanted.keys() | found.keys()):
            if wanted.get(key) != found.get(key):
                differences.append(Difference(table.name, key, wanted.get(key), found.get(key)))
    return differences
