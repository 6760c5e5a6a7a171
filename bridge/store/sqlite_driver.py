"""SQLite through aiosqlite in one trip per statement.

SQLAlchemy's aiosqlite adapter makes four trips to aiosqlite's thread per statement (create
the cursor, execute, fetch, close); each trip is a queue hand-off and a loop wake-up, about
85 µs here, while SQLite itself runs a small statement in a few µs. This adapter runs the
whole statement — cursor, execute, fetch, close — in one trip, which takes a third of the
per-batch fixed cost away. Everything else (transactions, pool, errors, server-side cursors)
is SQLAlchemy's aiosqlite dialect unchanged.

Inline connections (``connect_args={"bridge_inline": True}``, the bridge's writer) go further:
their statements, commit and rollback run in the calling thread, without any trip. Under load
on two cores a trip costs far more than a small statement (the wake-ups of two threads), and a
batch runs 13-50 statements. ``BEGIN`` is the one statement that waits for another process's
lock (busy timeout), which must not stall the event loop. The dialect's ``do_begin`` therefore
opens transactions through :meth:`OneTripConnection.begin`, with the statement given as
``connect_args={"bridge_begin": ...}``: it tries ``BEGIN`` inline without waiting, and only when the lock is taken does it go to aiosqlite's thread to wait there. Once a
writer holds the lock, WAL mode does not make its statements or commit wait for readers
(checkpoints are passive, and run beside the writer: ``bridge.store.checkpoint``). A long run
of inline statements gives the loop a turn every 50 ms (heartbeats, health checks). Readers
keep the thread: a long query never stalls the loop.

Registered as ``sqlite+bridge_aiosqlite``; ``create_engine`` uses it for ``sqlite+aiosqlite``
URLs. It relies on aiosqlite's ``Connection._execute`` (queue a function for its thread) and
``Connection._conn`` (the sqlite3 connection, opened with ``check_same_thread=False`` when inline;
never used by two threads at once, since every use is awaited before the next).
"""

from __future__ import annotations

import asyncio
import collections
import sqlite3
import time
from typing import Any, Sequence

from sqlalchemy.dialects import registry
from sqlalchemy.dialects.sqlite.aiosqlite import (
    AsyncAdapt_aiosqlite_connection,
    AsyncAdapt_aiosqlite_cursor,
    AsyncAdapt_aiosqlite_dbapi,
    SQLiteDialect_aiosqlite,
)
from sqlalchemy.util import EMPTY_DICT
from sqlalchemy.util.concurrency import await_

DRIVER = "bridge_aiosqlite"

#: What one trip returns: description, rowcount, lastrowid, rows.
Outcome = tuple[Any, int, Any, list[Any]]


def _run(connection: Any, operation: str, parameters: Any) -> Outcome:
    """In aiosqlite's thread: the whole statement, its rows included."""
    cursor = connection._conn.cursor()
    try:
        cursor.execute(operation, () if parameters is None else parameters)
        description = cursor.description
        rows = cursor.fetchall() if description else []
        return description, cursor.rowcount, cursor.lastrowid, rows
    finally:
        cursor.close()


def _run_many(connection: Any, operation: str, seq_of_parameters: Sequence[Any]) -> Outcome:
    cursor = connection._conn.cursor()
    try:
        cursor.executemany(operation, seq_of_parameters)
        return cursor.description, cursor.rowcount, cursor.lastrowid, []
    finally:
        cursor.close()


class OneTripCursor(AsyncAdapt_aiosqlite_cursor):
    """A client-side cursor whose statement and rows come back in one trip."""

    __slots__ = ("_outcome",)

    def __init__(self, adapt_connection: Any) -> None:  # no aiosqlite cursor: no trip
        self._adapt_connection = adapt_connection
        self._connection = adapt_connection._connection
        self._soft_closed_memoized = EMPTY_DICT
        self._rows = collections.deque()
        self._outcome: Outcome = (None, -1, None, [])

    @property
    def description(self) -> Any:
        return self._outcome[0]

    @property
    def rowcount(self) -> int:
        return self._outcome[1]

    @property
    def lastrowid(self) -> Any:
        return self._outcome[2]

    def execute(self, operation: Any, parameters: Any = None) -> None:
        self._trip(_run, operation, parameters)

    def executemany(self, operation: Any, seq_of_parameters: Any) -> None:
        self._trip(_run_many, operation, seq_of_parameters)

    def _trip(self, function: Any, operation: Any, parameters: Any) -> None:
        try:
            outcome: Outcome | None = None
            if self._adapt_connection.inline:
                outcome = await_(_now(function, self._connection, operation, parameters))
            else:
                outcome = await_(self._connection._execute(function, self._connection, operation, parameters))
            self._outcome = outcome
        except Exception as error:
            self._adapt_connection._handle_exception(error)
        self._rows = collections.deque(self._outcome[3])

    async def _async_soft_close(self) -> None:
        return  # nothing open in the thread: the rows are already here

    def close(self) -> None:
        self._rows.clear()


def _begin_unless_locked(connection: Any, statement: str, busy_timeout_ms: int) -> bool:
    """``BEGIN`` at once unless another connection holds the lock (then ``False``, nothing done)."""
    conn = connection._conn
    conn.execute("PRAGMA busy_timeout = 0")
    try:
        conn.execute(statement)
    except sqlite3.OperationalError as error:
        if error.sqlite_errorcode & 0xFF != sqlite3.SQLITE_BUSY:  # any SQLITE_BUSY_*
            raise
        return False
    finally:
        conn.execute(f"PRAGMA busy_timeout = {busy_timeout_ms}")
    return True


#: Longest stretch of inline statements before the event loop gets a turn (heartbeats, HTTP).
YIELD_EVERY_S = 0.05
_last_turn = [0.0]  # when inline statements last gave the loop a turn (monotonic seconds)


async def _now(function: Any, *args: Any) -> Any:
    """Run ``function`` in the event loop's thread. Awaited through ``await_`` all the same: a
    greenlet switch costs a microsecond, and SQLAlchemy's async layer requires one per statement.
    A batch of inline statements would hold the loop for its whole length, so every
    ``YIELD_EVERY_S`` one of them lets the loop run what is due before going on."""
    outcome = function(*args)
    if time.monotonic() - _last_turn[0] >= YIELD_EVERY_S:
        await asyncio.sleep(0)
        _last_turn[0] = time.monotonic()
    return outcome


class OneTripConnection(AsyncAdapt_aiosqlite_connection):
    __slots__ = ("inline", "busy_timeout_ms", "begin_statement")
    _cursor_cls = OneTripCursor

    def __init__(self, dbapi: Any, connection: Any, *, inline: bool = False,
                 busy_timeout_ms: int = 5_000, begin_statement: str | None = None) -> None:
        super().__init__(dbapi, connection)
        self.inline = inline
        self.busy_timeout_ms = busy_timeout_ms
        self.begin_statement = begin_statement

    def begin(self) -> None:
        """Open a transaction (``BEGIN`` or ``BEGIN IMMEDIATE``): the one statement that waits
        for another process's lock. Inline, it is tried without waiting; only if the lock is
        taken does it wait, for the busy timeout, in aiosqlite's thread."""
        statement = self.begin_statement
        if statement is None:
            return  # the driver's own implicit transactions
        try:
            if self.inline and await_(_now(_begin_unless_locked, self._connection, statement,
                                           self.busy_timeout_ms)):
                return
            await_(self._connection._execute(_run, self._connection, statement, None))
        except Exception as error:
            self._handle_exception(error)

    def commit(self) -> None:
        self._end("commit")

    def rollback(self) -> None:
        self._end("rollback")

    def _end(self, how: str) -> None:
        """Commit or roll back: inline, or in aiosqlite's thread as SQLAlchemy's adapter does."""
        if not self.inline:
            getattr(super(), how)()
        elif self._connection._connection:
            try:
                getattr(self._connection._conn, how)()
            except Exception as error:
                self._handle_exception(error)


class OneTripDBAPI(AsyncAdapt_aiosqlite_dbapi):
    def connect(self, *arg: Any, bridge_inline: bool = False, bridge_begin: str | None = None,
                **kw: Any) -> OneTripConnection:
        if bridge_inline:
            kw["check_same_thread"] = False
        adapted = super().connect(*arg, **kw)
        # sqlite3's `timeout` (seconds) is the busy timeout the inline BEGIN restores.
        return OneTripConnection(self, adapted._connection, inline=bridge_inline,
                                 busy_timeout_ms=int(kw.get("timeout", 5.0) * 1000),
                                 begin_statement=bridge_begin)


class OneTripSQLiteDialect(SQLiteDialect_aiosqlite):
    driver = DRIVER
    supports_statement_cache = True

    def do_begin(self, dbapi_connection: Any) -> None:
        dbapi_connection.begin()

    @classmethod
    def import_dbapi(cls) -> OneTripDBAPI:
        return OneTripDBAPI(__import__("aiosqlite"), __import__("sqlite3"))


registry.register(f"sqlite.{DRIVER}", __name__, "OneTripSQLiteDialect")
