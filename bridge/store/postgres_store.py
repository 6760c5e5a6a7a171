"""PostgreSQL for the batch path: ``asyncpg``, its statements prepared per connection.

A batch's transaction holds one pooled connection from its reads to its commit; each operation
of a plan is one round trip, and an ``executemany`` sends all its rows in one. ``asyncpg``
keeps every statement it ran prepared on its connection (its statement cache), so a batch
parses none. Several instances share the database: the unique keys (processed events, command
ids) make the loser of a race fail its transaction, which is retried and finds its events
applied.
"""

from __future__ import annotations

import time
from typing import Any, TypeVar

import asyncpg

from bridge.store.batch_store import PlanRunner
from bridge.store.plan import Plan, run_asyncpg
from bridge.store.sql import POSTGRESQL

T = TypeVar("T")

#: Statements kept prepared per connection (the batch path and the index use about 60).
STATEMENT_CACHE = 256


class PostgresStore(PlanRunner):
    dialect = POSTGRESQL

    def __init__(self, dsn: str, *, max_connections: int = 4, connect_timeout_s: float = 10.0) -> None:
        self._dsn = dsn
        self._max = max_connections
        self._timeout = connect_timeout_s
        self._pool: asyncpg.Pool | None = None
        #: the batch path runs on the event loop's thread: nothing to count elsewhere
        self.thread_cpu_s = 0.0

    async def open(self) -> None:
        if self._pool is None:
            self._pool = await asyncpg.create_pool(
                self._dsn, min_size=1, max_size=self._max, timeout=self._timeout, statement_cache_size=STATEMENT_CACHE
            )

    async def close(self) -> None:
        pool, self._pool = self._pool, None
        if pool is not None:
            await pool.close()

    async def begin(self) -> PostgresTransaction:
        if self._pool is None:
            await self.open()
        assert self._pool is not None
        conn = await self._pool.acquire()
        transaction = conn.transaction()
        try:
            await transaction.start()
        except BaseException:
            await self._release(conn)
            raise
        return PostgresTransaction(self, conn, transaction)

    async def _release(self, conn: Any) -> None:
        if self._pool is not None:
            await self._pool.release(conn)


class PostgresTransaction:
    def __init__(self, store: PostgresStore, conn: Any, transaction: Any) -> None:
        self._store = store
        self._conn = conn
        self._transaction = transaction
        self._ended = False
        self.commit_seconds = (0.0, 0.0)

    async def run(self, plan: Plan[T]) -> T:
        return await run_asyncpg(self._conn, plan)

    async def commit(self, plan: Plan[None] | None = None) -> None:
        try:
            if plan is not None:
                await run_asyncpg(self._conn, plan)
            wall, cpu = time.perf_counter(), time.thread_time()
            await self._transaction.commit()
            self.commit_seconds = (time.perf_counter() - wall, time.thread_time() - cpu)
        except BaseException:
            await self._rollback_quietly()
            raise
        finally:
            await self._end()

    async def rollback(self) -> None:
        if not self._ended:
            try:
                await self._rollback_quietly()
            finally:
                await self._end()

    async def _rollback_quietly(self) -> None:
        if self._conn.is_closed():
            return
        try:
            await self._transaction.rollback()
        except (asyncpg.PostgresError, asyncpg.InterfaceError, OSError):
            pass  # the connection is gone or the transaction already ended: nothing to undo

    async def _end(self) -> None:
        if not self._ended:
            self._ended = True
            await self._store._release(self._conn)
