"""Store work written once, as a plan of statements, and run by whichever driver holds the
connection.

A plan is a generator: it yields :class:`Fetch`, :class:`Execute` and :class:`ExecuteMany`
operations and is sent each one's rows back, so it can decide what to read next from what it
read (the prefetch reads the records at the other end of the links it found; the visibility
index reads the users a change affects before it rewrites their scopes). Its return value is the
plan's result. A plan does no I/O of its own, so the same plan runs

* on SQLite, whole, in the store's connection thread: one hand-off to the thread for any number
  of statements (:func:`run_sqlite`);
* on PostgreSQL with ``asyncpg``, one await per operation (:func:`run_asyncpg`);
* through a SQLAlchemy connection, for the operators' tools and tests (:func:`run_sqlalchemy`).

Rows come back as the driver returns them (tuples; JSON columns as text).
"""

from __future__ import annotations

import sqlite3
from collections.abc import Awaitable, Callable, Generator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, TypeVar, Union

from bridge.store.sql import POSTGRESQL, SQLITE, Statement

T = TypeVar("T")

Row = Sequence[Any]
Rows = list[Row]


@dataclass(frozen=True, slots=True)
class Fetch:
    """Run a query; the plan is sent its rows."""

    statement: Statement
    params: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Execute:
    """Run a statement; the plan is sent ``[]``."""

    statement: Statement
    params: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class ExecuteMany:
    """Run a statement once per row (one driver call); the plan is sent ``[]``."""

    statement: Statement
    rows: Sequence[Mapping[str, Any]]


Operation = Union[Fetch, Execute, ExecuteMany]
Plan = Generator[Operation, Rows, T]


def run_sqlite(conn: sqlite3.Connection, plan: Plan[T]) -> T:
    """Run a whole plan on a ``sqlite3`` connection (in the thread that owns it)."""
    rows: Rows = []
    try:
        operation = next(plan)
        while True:
            sql = operation.statement.sql(SQLITE)
            if isinstance(operation, ExecuteMany):
                if operation.rows:
                    conn.executemany(sql.text, sql.bind_rows(operation.rows))
                rows = []
            elif isinstance(operation, Fetch):
                rows = conn.execute(sql.text, sql.bind(operation.params)).fetchall()
            else:
                conn.execute(sql.text, sql.bind(operation.params))
                rows = []
            operation = plan.send(rows)
    except StopIteration as done:
        result: T = done.value  # the plan's return value
        return result
    finally:
        plan.close()


#: an async driver's three calls: (sql, rows) executemany, (sql, params) fetch, (sql, params) execute
ManyCall = Callable[[str, list[tuple[Any, ...]]], Awaitable[Any]]
FetchCall = Callable[[str, tuple[Any, ...]], Awaitable[Sequence[Row]]]
ExecuteCall = Callable[[str, tuple[Any, ...]], Awaitable[Any]]


async def _run_async(plan: Plan[T], dialect: str, many: ManyCall, fetch: FetchCall, execute: ExecuteCall) -> T:
    """Drive a plan with an async driver's calls: one await per operation."""
    rows: Rows = []
    try:
        operation = next(plan)
        while True:
            sql = operation.statement.sql(dialect)
            if isinstance(operation, ExecuteMany):
                if operation.rows:
                    await many(sql.text, sql.bind_rows(operation.rows))
                rows = []
            elif isinstance(operation, Fetch):
                rows = list(await fetch(sql.text, sql.bind(operation.params)))
            else:
                await execute(sql.text, sql.bind(operation.params))
                rows = []
            operation = plan.send(rows)
    except StopIteration as done:
        result: T = done.value  # the plan's return value
        return result
    finally:
        plan.close()


async def run_asyncpg(conn: Any, plan: Plan[T]) -> T:
    """Run a plan on an ``asyncpg`` connection: one await per operation."""
    return await _run_async(
        plan,
        POSTGRESQL,
        conn.executemany,
        lambda sql, params: conn.fetch(sql, *params),
        lambda sql, params: conn.execute(sql, *params),
    )


async def run_sqlalchemy(conn: Any, plan: Plan[T]) -> T:
    """Run a plan through a SQLAlchemy ``AsyncConnection`` (its driver's SQL, as compiled
    for the batch path, with the same values), inside the caller's transaction."""

    async def fetch(sql: str, params: tuple[Any, ...]) -> Sequence[Row]:
        rows: Sequence[Row] = (await conn.exec_driver_sql(sql, params)).all()
        return rows

    return await _run_async(
        plan,
        POSTGRESQL if conn.dialect.name == POSTGRESQL else SQLITE,
        conn.exec_driver_sql,
        fetch,
        conn.exec_driver_sql,
    )
