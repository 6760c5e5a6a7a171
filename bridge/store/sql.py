"""Helpers shared by the store's set-oriented statements (SQLite and PostgreSQL)."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any, TypeVar

from sqlalchemy import Table, bindparam
from sqlalchemy.dialects import postgresql, sqlite

T = TypeVar("T")

#: Bound parameters per statement stay far below SQLite's and asyncpg's limits (~32k).
CHUNK = 2000

#: ``IN (:ids)`` of the prebuilt statements: expands to one chunk of ids at execution
#: (execute with ``{"ids": chunk}``).
IDS = bindparam("ids", expanding=True)


def chunks(items: Iterable[T], size: int = CHUNK) -> Iterator[list[T]]:
    batch: list[T] = []
    for item in items:
        batch.append(item)
        if len(batch) == size:
            yield batch
            batch = []
    if batch:
        yield batch


def dialect_insert(dialect_name: str, table: Table) -> Any:
    """An INSERT with the dialect's ``on_conflict_do_*`` (both dialects spell them alike)."""
    return (postgresql if dialect_name == "postgresql" else sqlite).insert(table)
