"""SQLite for the batch path: ``sqlite3`` on one dedicated connection thread.

Every statement of the bridge's writer runs in that thread, never in the event loop's: a
``BEGIN IMMEDIATE`` that waits for another process's lock, a commit's sync of the log, a large
read, each blocks that thread only, and ``sqlite3`` lets go of the GIL while SQLite works. A
hand-off to the thread costs tens of µs, so a batch hands over whole plans, not statements:
its reads in one hand-off (with the ``BEGIN``), its writes and the commit in another
(:mod:`bridge.store.plan`). Statements stay prepared in ``sqlite3``'s statement cache.

The connection is set up for a single writer that must never lose an acknowledged batch: WAL, a
busy timeout, ``synchronous=FULL`` (offsets are committed after our commit, so the commit must
be durable), foreign keys on, ``BEGIN IMMEDIATE`` (a deferred transaction that upgrades from
read to write fails at once with "database is locked", ignoring the busy timeout).
Transactions are serialised (one connection): the relay's own small transactions wait for the
batch in progress.
"""

from __future__ import annotations

import asyncio
import contextlib
import queue
import sqlite3
import threading
import time
from typing import Any, Callable, TypeVar

from bridge.store.batch_store import PlanRunner
from bridge.store.plan import Plan, run_sqlite
from bridge.store.sql import SQLITE

T = TypeVar("T")

#: Statements kept prepared per connection (the batch path and the index use about 60).
CACHED_STATEMENTS = 256


class SqliteStore(PlanRunner):
    dialect = SQLITE

    def __init__(self, path: str, *, busy_timeout_ms: int = 10_000, wal_autocheckpoint: int | None = None) -> None:
        self.path = path
        self.busy_timeout_ms = busy_timeout_ms
        self.wal_autocheckpoint = wal_autocheckpoint
        self._thread: _ConnectionThread | None = None
        self._conn: sqlite3.Connection | None = None
        self._lock = asyncio.Lock()  # one transaction at a time on the one connection
        #: CPU seconds the connection thread spent on this store's work (``thread_time``)
        self.thread_cpu_s = 0.0

    async def open(self) -> None:
        if self._thread is None:
            self._thread = _ConnectionThread()
            await self._call(self._connect)

    async def close(self) -> None:
        if self._thread is None:
            return
        async with self._lock:
            await self._call(self._disconnect)
            thread, self._thread = self._thread, None
            thread.stop()

    async def begin(self) -> SqliteTransaction:
        if self._thread is None:
            await self.open()
        await self._lock.acquire()
        return SqliteTransaction(self)

    # -- in the connection thread ----------------------------------------------------------

    def _connect(self) -> None:
        # isolation_level=None: the driver opens no transaction of its own; BEGIN is ours.
        conn = sqlite3.connect(
            self.path, timeout=self.busy_timeout_ms / 1000, isolation_level=None, cached_statements=CACHED_STATEMENTS
        )
        pragmas = ["journal_mode=WAL", f"busy_timeout={self.busy_timeout_ms}", "synchronous=FULL", "foreign_keys=ON"]
        if self.wal_autocheckpoint is not None:
            # Also cut the log file back to that size when it starts over, after a burst.
            pragmas += [
                f"wal_autocheckpoint={int(self.wal_autocheckpoint)}",
                f"journal_size_limit={int(self.wal_autocheckpoint) * 4096}",
            ]
        for pragma in pragmas:
            conn.execute(f"PRAGMA {pragma}").fetchall()
        self._conn = conn

    def _disconnect(self) -> None:
        conn, self._conn = self._conn, None
        if conn is not None:
            if conn.in_transaction:
                conn.rollback()
            conn.close()

    def connection(self) -> sqlite3.Connection:
        if self._conn is None:
            self._connect()
        assert self._conn is not None
        return self._conn

    async def _call(self, function: Callable[..., T], *args: Any) -> T:
        """Run ``function`` in the connection thread, counting that thread's CPU."""
        assert self._thread is not None, "the store is not open"
        result, cpu = await self._thread.call(function, args)
        self.thread_cpu_s += cpu
        return result


class _ConnectionThread:
    """One thread, one queue: the hand-off costs a queue put and a loop wake-up (a thread
    pool's futures and callbacks cost about twice as much, and a batch hands off twice)."""

    def __init__(self) -> None:
        self._queue: queue.SimpleQueue[Any] = queue.SimpleQueue()
        # A daemon: a process exiting with a transaction open loses nothing (SQLite rolls an
        # unfinished transaction back), and nothing waits for the thread.
        self._thread = threading.Thread(target=self._serve, name="bridge-sqlite", daemon=True)
        self._thread.start()

    async def call(self, function: Callable[..., T], args: tuple[Any, ...]) -> tuple[T, float]:
        loop = asyncio.get_running_loop()
        done: asyncio.Future[tuple[T, float]] = loop.create_future()
        self._queue.put((loop, done, function, args))
        return await done

    def stop(self) -> None:
        self._queue.put(None)
        self._thread.join()

    def _serve(self) -> None:
        while (item := self._queue.get()) is not None:
            loop, done, function, args = item
            began = time.thread_time()
            try:
                outcome: tuple[Any, BaseException | None] = (function(*args), None)
            except BaseException as error:  # noqa: BLE001 - handed to the caller
                outcome = (None, error)
            with contextlib.suppress(RuntimeError):  # the loop closed meanwhile
                loop.call_soon_threadsafe(_deliver, done, outcome, time.thread_time() - began)


def _deliver(done: asyncio.Future[Any], outcome: tuple[Any, BaseException | None], cpu: float) -> None:
    if done.cancelled():
        return  # the caller went away; its transaction is rolled back by the next one
    result, error = outcome
    if error is not None:
        done.set_exception(error)
    else:
        done.set_result((result, cpu))


class SqliteTransaction:
    """The store's connection, between ``BEGIN IMMEDIATE`` (with the first plan) and the end."""

    def __init__(self, store: SqliteStore) -> None:
        self._store = store
        self._begun = False
        self._ended = False
        self.commit_seconds = (0.0, 0.0)

    async def run(self, plan: Plan[T]) -> T:
        return await self._store._call(self._run, plan)

    async def commit(self, plan: Plan[None] | None = None) -> None:
        try:
            await self._store._call(self._commit, plan)
        finally:
            self._end()

    async def rollback(self) -> None:
        if self._ended:
            return
        try:
            await self._store._call(self._rollback)
        finally:
            self._end()

    def _end(self) -> None:
        if not self._ended:
            self._ended = True
            self._store._lock.release()

    # -- in the connection thread ----------------------------------------------------------

    def _run(self, plan: Plan[T]) -> T:
        conn = self._store.connection()
        if not self._begun:
            if conn.in_transaction:  # left open by a transaction whose caller was cancelled
                conn.rollback()
            conn.execute("BEGIN IMMEDIATE")  # waits up to the busy timeout for the lock
            self._begun = True
        return run_sqlite(conn, plan)

    def _commit(self, plan: Plan[None] | None) -> None:
        conn = self._store.connection()
        try:
            if plan is not None:
                self._run(plan)
            if conn.in_transaction:
                wall, cpu = time.perf_counter(), time.thread_time()
                conn.execute("COMMIT")
                self.commit_seconds = (time.perf_counter() - wall, time.thread_time() - cpu)
        except BaseException:
            if conn.in_transaction:
                conn.rollback()
            raise

    def _rollback(self) -> None:
        conn = self._store._conn
        if conn is not None and conn.in_transaction:
            conn.rollback()
