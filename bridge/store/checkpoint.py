"""Checkpoint SQLite's write-ahead log beside the writer instead of inside its commits.

By default SQLite checkpoints in the commit that takes the log past 1,000 pages: copying those
pages into the database file and syncing it happens in the bridge's event-loop thread, and a
batch of 500 events writes about that much, so nearly every commit paid for a checkpoint (37 ms
per commit of 500 events; 17-21 ms with this checkpointer). Here a worker thread runs a PASSIVE
checkpoint instead; PASSIVE takes no lock a writer needs and never waits, so the writer's commits
only append to the log. It runs at most once per ``interval_s``, at the end of a batch (the
runtime tells it, as one of its observers): the writer has just committed and its next commit
is a batch away, so the checkpoint's sync of the database file rarely lands on a commit's sync
of the log. An idle bridge is checkpointed after one more interval, once.

The log starts over from the beginning only if it was fully copied back when a write
transaction begins. Under steady load the next batch usually begins before the worker's
checkpoint ends, so that rarely happens after the worker's checkpoint. The writer engine
therefore keeps SQLite's own checkpoint as a backstop at :data:`BACKSTOP_PAGES`
(``create_engine(..., wal_autocheckpoint=BACKSTOP_PAGES)``), run inside a commit. It finds
little left to copy, and the log starts over after it. So the log cycles up to ~40 MB, and it
stays bounded if the worker stops. It grows past that only while a reader holds an old snapshot.
"""

from __future__ import annotations

import asyncio
import sqlite3
import threading
from contextlib import suppress
from dataclasses import dataclass
from typing import Any
from urllib.request import pathname2url

import structlog
from sqlalchemy.engine import make_url

log = structlog.get_logger("bridge.store.checkpoint")

#: The writer's own checkpoint threshold (pages) while a checkpointer runs: ~40 MB of log.
BACKSTOP_PAGES = 10_000


@dataclass(frozen=True, slots=True)
class CheckpointResult:
    """SQLite's answer: whether it had to stop early, pages in the log, pages copied back."""

    busy: bool
    log_pages: int
    checkpointed_pages: int


def database_path(url: str) -> str | None:
    """The file behind a SQLite URL; ``None`` for PostgreSQL or an in-memory database."""
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite" or parsed.database in (None, "", ":memory:"):
        return None
    return parsed.database


class WalCheckpointer:
    """Runs ``PRAGMA wal_checkpoint(PASSIVE)`` on its own connection, in a worker thread."""

    def __init__(self, path: str, interval_s: float) -> None:
        self._path = path
        self._interval_s = interval_s
        self._conn: sqlite3.Connection | None = None
        # A cancelled `to_thread` call goes on in its thread: close must wait for it.
        self._lock = threading.Lock()
        self.last: CheckpointResult | None = None
        self._batch_ended = asyncio.Event()
        self._written = True  # a batch ended since the last checkpoint (or none ran yet)

    # -- told by the runtime (``bridge.runtime.BatchObserver``) ---------------------------

    def on_batch(self, result: Any, size: int, seconds: float) -> None:
        self._batch_ended.set()
        self._written = True

    def on_transient_error(self, error: BaseException) -> None:
        pass

    def on_rewind(self) -> None:
        pass

    def on_batch_failure(self, error: BaseException) -> None:
        pass

    def on_commit_failure(self) -> None:
        pass

    def on_phases(self, phases: Any, size: int) -> None:
        pass

    # -- the loop ------------------------------------------------------------------------

    async def run(self, stopping: asyncio.Event) -> None:
        """Checkpoint at the end of a batch, at most once an interval, until ``stopping`` is set;
        a failure is logged, not raised."""
        try:
            while True:
                await _wait(stopping, self._interval_s)
                if stopping.is_set():
                    return
                self._batch_ended.clear()
                await _wait(self._batch_ended, self._interval_s)
                if stopping.is_set():
                    return
                if not self._written:
                    continue  # idle since the last checkpoint: the log holds nothing new
                self._written = False
                try:
                    self.last = await asyncio.to_thread(self.checkpoint)
                except sqlite3.Error as error:
                    log.warning("checkpoint.failed", error_class=type(error).__name__)
                    await asyncio.to_thread(self.close)
        finally:
            await asyncio.to_thread(self.close)

    def checkpoint(self) -> CheckpointResult:
        """One PASSIVE checkpoint (blocking: call it from a worker thread)."""
        with self._lock:
            return self._checkpoint()

    def _checkpoint(self) -> CheckpointResult:
        if self._conn is None:
            # Any thread of the pool may run the next call; they never overlap.
            # mode=rw: a missing file is an error, never a new empty database.
            conn = sqlite3.connect(
                f"file:{pathname2url(self._path)}?mode=rw", uri=True, isolation_level=None, check_same_thread=False
            )
            # A connection that found the database in rollback mode (a new store, before the
            # writer's first connection) would answer (0, -1, -1) for ever: switch it here.
            conn.execute("PRAGMA journal_mode=WAL").fetchone()
            self._conn = conn
        busy, log_pages, done = self._conn.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchone()
        return CheckpointResult(bool(busy), log_pages, done)

    def close(self) -> None:
        with self._lock:
            conn, self._conn = self._conn, None
            if conn is not None:
                conn.close()


async def _wait(event: asyncio.Event, timeout_s: float) -> None:
    with suppress(TimeoutError):
        await asyncio.wait_for(event.wait(), timeout=timeout_s)


def checkpointer_for(url: str, interval_ms: int) -> WalCheckpointer | None:
    """The checkpointer a writer of ``url`` should run beside it, if any (SQLite files only)."""
    path = database_path(url)
    if path is None or interval_ms <= 0:
        return None
    return WalCheckpointer(path, interval_ms / 1000)
