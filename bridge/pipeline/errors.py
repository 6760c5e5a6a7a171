"""Which failures are waited out, and which are the bridge's own fault or the data's.

A transient failure (store locked or down, broker unavailable, a concurrent instance winning a
unique key) says nothing about the event: the batch is retried as it is. A store that refuses
a statement for what it carries (a value too long for its column, a character it cannot hold, a
constraint) refuses it every time: waiting would stall the stream for good, so it fails the
batch like any other unexpected exception. Inside one event's flows that dead-letters the event
only (kept for ``dlq retry`` after the fix); anywhere else the batch is rewound and fetched
again, never skipped, and after ``isolate_after`` failures taken one record at a time, so that
the one record the store refuses is dead-lettered and the stream goes on.
"""

from __future__ import annotations

import asyncio
import sqlite3
import traceback
from pathlib import PurePath

import asyncpg
from aiokafka.errors import KafkaError
from sqlalchemy.exc import DBAPIError

#: the reason code of an event whose flows raised an unexpected exception
INTERNAL_ERROR = "internal_error"
#: the reason code of a record whose writes the store refuses (see ``store_rejection``)
STORE_REJECTED = "store_rejected"

# SQLSTATE class 22 is "data exception", 23 "integrity constraint violation"; of the latter,
# only a unique violation can be a race between instances (the loser's retry finds duplicates).
_PG_UNIQUE_VIOLATION = "23505"
#: SQLSTATE classes of a database that cannot serve now: a connection lost, the server short of
#: resources or shutting down, a serialization failure or deadlock (the retry may pass)
_PG_TRANSIENT_CLASSES = frozenset({"08", "40", "53", "57", "58"})
_SQLITE_RACE_CODES = frozenset({sqlite3.SQLITE_CONSTRAINT_UNIQUE, sqlite3.SQLITE_CONSTRAINT_PRIMARYKEY})
_SQLITE_DATA_CODES = frozenset({sqlite3.SQLITE_CONSTRAINT, sqlite3.SQLITE_TOOBIG, sqlite3.SQLITE_MISMATCH})
#: SQLite's primary codes of a database that cannot serve now (locked, out of memory or disk,
#: read-only, an I/O error…). SQLITE_ERROR, a statement SQLite cannot run (no such table, a
#: syntax error), is not one: it would fail every retry.
_SQLITE_OUTAGE_CODES = frozenset(
    {
        sqlite3.SQLITE_BUSY,
        sqlite3.SQLITE_LOCKED,
        sqlite3.SQLITE_NOMEM,
        sqlite3.SQLITE_READONLY,
        sqlite3.SQLITE_IOERR,
        sqlite3.SQLITE_CORRUPT,
        sqlite3.SQLITE_FULL,
        sqlite3.SQLITE_CANTOPEN,
        sqlite3.SQLITE_PROTOCOL,
        sqlite3.SQLITE_NOTADB,
        sqlite3.SQLITE_INTERRUPT,
    }
)


def _driver_error(error: BaseException) -> BaseException:
    """The driver's own exception: the batch path raises it, SQLAlchemy (the tools) wraps it."""
    return error.orig if isinstance(error, DBAPIError) and error.orig is not None else error


def store_rejection(error: BaseException) -> str | None:
    """The store's own code when it refused a statement for the data it carries (the same
    statement would be refused again: ``SQLSTATE 22001``, ``SQLITE_CONSTRAINT_NOTNULL``…);
    ``None`` for anything else."""
    orig = _driver_error(error)
    sqlstate = getattr(orig, "sqlstate", None)
    if isinstance(sqlstate, str):
        if sqlstate[:2] == "22" or (sqlstate[:2] == "23" and sqlstate != _PG_UNIQUE_VIOLATION):
            return f"SQLSTATE {sqlstate}"
        return None
    code = getattr(orig, "sqlite_errorcode", None)
    if (
        isinstance(orig, sqlite3.Error)
        and isinstance(code, int)
        and code & 0xFF in _SQLITE_DATA_CODES
        and code not in _SQLITE_RACE_CODES
    ):
        return str(getattr(orig, "sqlite_errorname", code))
    return None


def _store_unavailable(error: BaseException) -> bool:
    """The store failed for reasons of its own (locked, down, out of disk) or lost a race with
    another instance, not for the data's sake nor a bug's: a statement the store cannot run
    (no such table, SQLSTATE 42…) is a bug."""
    orig = _driver_error(error)
    if isinstance(orig, sqlite3.Error):
        code = getattr(orig, "sqlite_errorcode", None)
        if isinstance(code, int):
            return code & 0xFF in _SQLITE_OUTAGE_CODES or code in _SQLITE_RACE_CODES
        return isinstance(orig, sqlite3.OperationalError)
    if isinstance(orig, asyncpg.PostgresError):
        sqlstate = getattr(orig, "sqlstate", None) or ""
        return sqlstate[:2] in _PG_TRANSIENT_CLASSES or sqlstate == _PG_UNIQUE_VIOLATION
    if isinstance(orig, asyncpg.InterfaceError):  # the connection closed under a query
        return True
    return isinstance(error, DBAPIError)


def is_transient(error: BaseException) -> bool:
    """Worth retrying as it is: the failure says nothing about the events."""
    if store_rejection(error) is not None:
        return False
    if isinstance(error, (KafkaError, ConnectionError, asyncio.TimeoutError, OSError)):
        return True
    return _store_unavailable(error)


def describe_failure(error: BaseException) -> tuple[str, str]:
    """(reason code, detail) of a dead letter for an unexpected failure. A store rejection is
    described by its code only: the driver's message quotes the statement's parameters."""
    rejection = store_rejection(error)
    if rejection is not None:
        return STORE_REJECTED, f"the store refused this record's writes ({rejection})"
    return INTERNAL_ERROR, f"{type(error).__name__}: {error}"


def raised_at(error: BaseException) -> str:
    """``file:line in function`` of the innermost frame: where to look, without the message
    (an exception's message may quote the payload, which never goes into a log)."""
    frames = traceback.extract_tb(error.__traceback__)
    if not frames:
        return "?"
    frame = frames[-1]
    return f"{'/'.join(PurePath(frame.filename).parts[-2:])}:{frame.lineno} in {frame.name}"
