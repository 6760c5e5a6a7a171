"""The transactional outbox: rows written with the batch, published after commit, marked sent.

Rows are published in ``seq`` order, keyed by their target record, so the commands for one
record leave in the order they were decided. A row published twice (a crash between the
publish and the mark) carries the same ``message_id``/``command_id`` both times; the target
systems treat it as an idempotency key.

Marking rows sent may be deferred (``defer_mark``): the delivery runtime writes the marks in the
next batch's transaction instead of a transaction of their own, and the relay loop writes marks
that waited longer than a moment (an idle bridge). A crash loses only marks, never messages: the
rows are published again on start-up, with the same ids.

A row the broker refuses for good (a non-retriable error: larger than the topic accepts, say)
must not hold up the rows of other records behind it: the relay sets it aside, logged, and it
holds back only its own record's later rows, whose order it keeps.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterable
from datetime import datetime, timedelta, timezone
from typing import Any, Awaitable, Callable, Mapping, Sequence

import structlog
from aiokafka.errors import KafkaError

from bridge.failpoints import failpoint
from bridge.store.batch_store import BatchStore
from bridge.store.plan import Execute, Fetch, Plan
from bridge.store.schema import outbox
from bridge.store.sql import read_json
from bridge.store.statements import MARK_SENT, UNSENT
from connectors.common import Command

#: Sends one message and returns an awaitable that completes when the broker acknowledged it.
Send = Callable[[str, bytes, bytes, Mapping[str, str]], Awaitable[Awaitable[Any]]]

HEADER_PREFIX = "x-bridge-"

log = structlog.get_logger("bridge.outbox")

_OUTBOX_COLUMNS = tuple(c.name for c in outbox.columns)


def mark_sent_plan(message_ids: Sequence[str], now: datetime) -> Plan[None]:
    """Record rows as published."""
    if message_ids:
        yield Execute(MARK_SENT, {"ids": list(message_ids), "now": now})


def _unsent_plan(cutoff: datetime, limit: int) -> Plan[list[dict[str, Any]]]:
    rows = yield Fetch(UNSENT, {"cutoff": cutoff, "limit": limit})
    found = [dict(zip(_OUTBOX_COLUMNS, row, strict=True)) for row in rows]
    for row in found:
        row["headers"] = read_json(row["headers"]) or {}
        row["payload"] = bytes(row["payload"])
    return found


def command_row(*, command: Command, topic: str, headers: Mapping[str, str], cause_event_id: str,
                cause_sys_id: str, rule: str, mapping_version: str | None,
                now: datetime) -> dict[str, Any]:
    """An outbox row for a contract command."""
    return {
        "message_id": command.command_id, "kind": "command", "topic": topic,
        "msg_key": command.message_key,
        "payload": command.to_json(), "headers": dict(headers), "target": command.target,
        "target_table": command.table, "target_sys_id": command.sys_id or None,
        "correlation_id": command.correlation_id or None, "cause_event_id": cause_event_id,
        "cause_sys_id": cause_sys_id, "rule": rule, "mapping_version": mapping_version,
        "created_at": now, "sent_at": None,
    }


class OutboxRelay:
    """Publishes outbox rows; one instance per process, shared by the batch path and the relay."""

    def __init__(self, store: BatchStore, send: Send) -> None:
        self._store = store
        self._send = send
        self._lock = asyncio.Lock()
        self._unmarked: dict[str, float] = {}  # published, not yet marked: id → when published
        # Rows the broker will not take as they are (too large for the topic, say), by id, and
        # the (topic, key) they hold back: a record's later commands wait behind its refused one.
        self.refused: dict[str, str] = {}
        self._held: set[tuple[str, str]] = set()
        self._in_flight: set[str] = set()  # handed to the producer, not yet acknowledged
        self.published = 0

    async def publish(self, rows: Sequence[Mapping[str, Any]], *, defer_mark: bool = False) -> None:
        """Publish rows (already committed) without awaiting each, then mark them sent (now, or
        later when ``defer_mark``: see :meth:`unmarked`)."""
        if not rows:
            return
        async with self._lock:
            acks = await self._enqueue(rows)
            await self._acknowledged(rows, acks)
            if not defer_mark:
                await self._flush_marks()

    async def start_publish(self, rows: Sequence[Mapping[str, Any]]) -> asyncio.Future[None]:
        """Hand rows (already committed) to the producer, in order, and return at once: the
        future completes when the broker has acknowledged every one (their marks then wait, as
        with ``defer_mark``), or fails with the first error. Until it is done the rows are in
        flight, and :meth:`drain` leaves them alone."""
        async with self._lock:
            acks = await self._enqueue(rows)
        ids = {r["message_id"] for r in rows}
        self._in_flight |= ids
        confirmed = asyncio.ensure_future(self._acknowledged(rows, acks))
        confirmed.add_done_callback(lambda _done: self._in_flight.difference_update(ids))
        return confirmed

    async def _enqueue(self, rows: Sequence[Mapping[str, Any]]) -> list[Awaitable[Any]]:
        return [await self._send(r["topic"], r["msg_key"].encode(), r["payload"], _headers(r))
                for r in rows]

    async def _acknowledged(self, rows: Sequence[Mapping[str, Any]],
                            acks: Sequence[Awaitable[Any]]) -> None:
        await asyncio.gather(*acks)
        failpoint("after_publish")
        published_at = time.monotonic()
        self._unmarked.update((r["message_id"], published_at) for r in rows)
        self.published += len(rows)

    def unmarked(self) -> list[str]:
        """Published rows whose mark is still to be written (by whoever calls :meth:`forget`
        after writing them with :func:`mark_sent_plan`)."""
        return list(self._unmarked)

    def forget(self, message_ids: Iterable[str]) -> None:
        """The marks of these rows are committed."""
        for message_id in message_ids:
            self._unmarked.pop(message_id, None)

    async def flush_marks(self, *, older_than_s: float = 0.0) -> None:
        """Write the pending marks if the oldest has waited ``older_than_s``."""
        if self._unmarked and time.monotonic() - min(self._unmarked.values()) >= older_than_s:
            async with self._lock:
                await self._flush_marks()

    async def drain(self, *, older_than: timedelta = timedelta(0), limit: int = 1000) -> int:
        """Publish unsent rows (left by a crash or a failed publish); returns how many."""
        await self.flush_marks()
        total = 0
        while True:
            cutoff = datetime.now(timezone.utc) - older_than
            rows: Sequence[Mapping[str, Any]] = await self._store.run(_unsent_plan(cutoff, limit))
            rows = [r for r in rows if r["message_id"] not in self._unmarked
                    and r["message_id"] not in self._in_flight
                    and r["message_id"] not in self.refused
                    and (r["topic"], r["msg_key"]) not in self._held]
            if not rows:
                return total
            try:
                await self.publish(rows)
            except KafkaError as error:
                if error.retriable:
                    raise
                rows = await self._publish_each(rows)
            total += len(rows)

    async def _publish_each(self, rows: Sequence[Mapping[str, Any]]) -> list[Mapping[str, Any]]:
        """One row at a time, after the broker refused one of them for good: the refused row is
        set aside (logged, left unsent, tried again at the next start) and holds back only the
        later rows of its own record. Returns the rows published."""
        published = []
        for row in rows:
            if (row["topic"], row["msg_key"]) in self._held:
                continue
            try:
                await self.publish([row])
            except KafkaError as error:
                if error.retriable:
                    raise
                self.refused[row["message_id"]] = type(error).__name__
                self._held.add((row["topic"], row["msg_key"]))
                log.error("outbox.refused", message_id=row["message_id"], topic=row["topic"],
                          error_class=type(error).__name__, bytes=len(row["payload"]))
                continue
            published.append(row)
        return published

    async def _flush_marks(self) -> None:
        message_ids = self.unmarked()
        if message_ids:
            await self._store.run(mark_sent_plan(message_ids, datetime.now(timezone.utc)))
            self.forget(message_ids)


def _headers(row: Mapping[str, Any]) -> dict[str, str]:
    headers = {str(k): str(v) for k, v in (row.get("headers") or {}).items()}
    headers.setdefault(HEADER_PREFIX + "message-id", row["message_id"])
    return headers
