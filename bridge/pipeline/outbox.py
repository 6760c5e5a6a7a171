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

A dead letter is never set aside: it is the only trace of its input on the topics. One larger
than its topic takes (``limits``: each topic's ``max.message.bytes``, read at start-up) is cut
down before it is sent, to the largest of ``CUT_DOWN_BYTES`` that fits, down to no payload at
all, with headers that say so: ``x-bridge-truncated``, ``x-bridge-original-size`` and
``x-bridge-original-sha256`` (its position is in ``x-bridge-original-topic``/``-partition``/
``-offset`` already). Before, not after: a broker that refuses a message for its size leaves an
idempotent producer's sequence numbers for that partition behind, and the producer's every
later message there is refused (``OutOfOrderSequenceNumber``). One refused all the same (the
limit not known, or lowered since) is sent again the same way. The whole payload stays in the
store (``bridge dlq show``).
"""

from __future__ import annotations

import asyncio
import hashlib
import time
from collections.abc import Iterable
from datetime import datetime, timedelta, timezone
from typing import Any, Awaitable, Callable, Mapping, Sequence

import structlog
from aiokafka.errors import KafkaError, MessageSizeTooLargeError

from bridge.failpoints import failpoint, failpoint_async
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
#: the payload sizes a dead letter too large for its topic is cut down to (0: headers only)
CUT_DOWN_BYTES = (16_384, 1_024, 0)
#: what a record takes in its batch beyond its key, value and headers (a batch's header is 61
#: bytes, a record's own fields a few dozen): generous, so that a cut-down message fits
_RECORD_OVERHEAD = 512


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


def command_row(
    *,
    command: Command,
    topic: str,
    headers: Mapping[str, str],
    cause_event_id: str,
    cause_sys_id: str,
    rule: str,
    mapping_version: str | None,
    now: datetime,
) -> dict[str, Any]:
    """An outbox row for a contract command."""
    return {
        "message_id": command.command_id,
        "kind": "command",
        "topic": topic,
        "msg_key": command.message_key,
        "payload": command.to_json(),
        "headers": dict(headers),
        "target": command.target,
        "target_table": command.table,
        "target_sys_id": command.sys_id or None,
        "correlation_id": command.correlation_id or None,
        "cause_event_id": cause_event_id,
        "cause_sys_id": cause_sys_id,
        "rule": rule,
        "mapping_version": mapping_version,
        "created_at": now,
        "sent_at": None,
    }


class OutboxRelay:
    """Publishes outbox rows; one instance per process, shared by the batch path and the relay."""

    def __init__(self, store: BatchStore, send: Send, limits: Mapping[str, int] | None = None) -> None:
        self._store = store
        self._send = send
        #: the largest message each topic takes (``max.message.bytes``), where known
        self.limits: dict[str, int] = dict(limits or {})
        self._lock = asyncio.Lock()
        self._unmarked: dict[str, float] = {}  # published, not yet marked: id → when published
        # Rows the broker will not take as they are (too large for the topic, say), by id, and
        # the (topic, key) they hold back: a record's later commands wait behind its refused one.
        self.refused: dict[str, str] = {}
        self._held: set[tuple[str, str]] = set()
        self._in_flight: set[str] = set()  # handed to the producer, not yet acknowledged
        self.published = 0
        #: committed rows may be unsent (an attempt failed after its commit, or its publish):
        #: they must go out before anything decided later, or a record's commands reorder
        self.owes = False

    async def publish(self, rows: Sequence[Mapping[str, Any]], *, defer_mark: bool = False) -> list[Mapping[str, Any]]:
        """Publish rows (already committed) without awaiting each, then mark them sent (now, or
        later when ``defer_mark``: see :meth:`unmarked`). Returns the rows published (not those
        set aside, or held back behind one)."""
        if not rows:
            return []
        async with self._lock:
            handed, acks = await self._enqueue(rows)
            await self._acknowledged(handed, acks)
            if not defer_mark:
                await self._flush_marks()
        return handed

    async def start_publish(self, rows: Sequence[Mapping[str, Any]]) -> asyncio.Future[None]:
        """Hand rows (already committed) to the producer, in order, and return at once: the
        future completes when the broker has acknowledged every one (their marks then wait, as
        with ``defer_mark``), or fails with the first error. Until it is done the rows are in
        flight, and :meth:`drain` leaves them alone."""
        async with self._lock:
            handed, acks = await self._enqueue(rows)
        ids = {r["message_id"] for r in handed}
        self._in_flight |= ids
        confirmed = asyncio.ensure_future(self._acknowledged(handed, acks))
        confirmed.add_done_callback(lambda _done: self._in_flight.difference_update(ids))
        return confirmed

    async def _enqueue(self, rows: Sequence[Mapping[str, Any]]) -> tuple[list[Mapping[str, Any]], list[Awaitable[Any]]]:
        """Hand rows to the producer, in order: the rows handed over, and their acks. A command
        the producer refuses for good at once (larger than it sends, or than its topic takes)
        is set aside, and one behind a refused row of its record waits (both left unsent)."""
        handed: list[Mapping[str, Any]] = []
        acks: list[Awaitable[Any]] = []
        for row in rows:
            if row["kind"] == "dead_letter":
                ack: Awaitable[Any] | None = await self._send_dead_letter(row)
            elif (row["topic"], row["msg_key"]) in self._held:
                continue
            else:
                ack = await self._send_command(row)
            if ack is not None:
                handed.append(row)
                acks.append(ack)
        return handed, acks

    async def _send_command(self, row: Mapping[str, Any]) -> Awaitable[Any] | None:
        headers = _headers(row)
        room = self._room(row, headers)
        if room is not None and len(row["payload"]) > room:
            # Not sent at all: a broker refusing it for its size would leave the idempotent
            # producer unable to publish anything more to that partition.
            refusal: KafkaError = MessageSizeTooLargeError()
        else:
            try:
                return await self._send(row["topic"], row["msg_key"].encode(), row["payload"], headers)
            except KafkaError as error:  # refused before it left: it would be, every time
                if error.retriable:
                    raise
                refusal = error
        self._set_aside(row, refusal)
        return None

    def _set_aside(self, row: Mapping[str, Any], error: KafkaError) -> None:
        """Leave a row the broker refuses for good unsent (tried again at the next start), and
        hold back its record's later rows behind it."""
        self.refused[row["message_id"]] = type(error).__name__
        self._held.add((row["topic"], row["msg_key"]))
        log.error(
            "outbox.refused",
            message_id=row["message_id"],
            topic=row["topic"],
            error_class=type(error).__name__,
            bytes=len(row["payload"]),
        )

    async def _send_dead_letter(self, row: Mapping[str, Any]) -> Awaitable[Any]:
        """Hand a dead letter to the producer, cut down first if its topic would refuse it; the
        awaitable completes once the broker has acknowledged it (if it refuses it for good all
        the same, once it has acknowledged it cut down)."""
        headers = _headers(row)
        room = self._room(row, headers)
        if room is not None and len(row["payload"]) > room:
            return asyncio.ensure_future(self._send_cut_down(row, None))
        try:
            ack = await self._send(row["topic"], row["msg_key"].encode(), row["payload"], headers)
        except KafkaError as error:  # refused before it left (larger than the producer sends)
            if error.retriable:
                raise
            return asyncio.ensure_future(self._send_cut_down(row, error))
        return asyncio.ensure_future(self._acknowledged_or_cut_down(row, ack))

    def _room(self, row: Mapping[str, Any], headers: Mapping[str, str]) -> int | None:
        """The payload bytes ``row``'s topic takes with these headers; None if not known."""
        limit = self.limits.get(row["topic"])
        if limit is None:
            return None
        return (
            limit
            - _RECORD_OVERHEAD
            - len(row["msg_key"].encode())
            - sum(len(k.encode()) + len(v.encode()) for k, v in headers.items())
        )

    async def _acknowledged_or_cut_down(self, row: Mapping[str, Any], ack: Awaitable[Any]) -> None:
        try:
            await ack
        except KafkaError as error:
            if error.retriable:
                raise
            await self._send_cut_down(row, error)

    async def _send_cut_down(self, row: Mapping[str, Any], refusal: KafkaError | None) -> None:
        """Publish a dead letter cut down to the largest of ``CUT_DOWN_BYTES`` that its topic
        takes, or that the broker accepts, trying them in turn; after a ``refusal``, first alone
        as it is (the refusal may have been its producer batch's). Raises the last refusal if
        even no payload is accepted: then it is not about the payload, and the relay sets the
        row aside."""
        payload: bytes = row["payload"]
        headers = _headers(row)
        cut_headers = {
            **headers,
            HEADER_PREFIX + "truncated": "true",
            HEADER_PREFIX + "original-size": str(len(payload)),
            HEADER_PREFIX + "original-sha256": hashlib.sha256(payload).hexdigest(),
        }
        room = self._room(row, cut_headers)
        attempts = [(payload, headers)] if refusal is not None else []
        attempts += [
            (payload[:size], cut_headers)
            for size in CUT_DOWN_BYTES
            if size < len(payload) and (room is None or size <= room)
        ]
        for body, sent_headers in attempts:
            try:
                await (await self._send(row["topic"], row["msg_key"].encode(), body, sent_headers))
            except KafkaError as error:
                if error.retriable:
                    raise
                refusal = error
                continue
            log.warning(
                "dead_letter.cut_down",
                message_id=row["message_id"],
                topic=row["topic"],
                refused=type(refusal).__name__ if refusal else None,
                bytes=len(payload),
                sent=len(body),
            )
            return
        raise refusal or MessageSizeTooLargeError()

    async def _acknowledged(self, rows: Sequence[Mapping[str, Any]], acks: Sequence[Awaitable[Any]]) -> None:
        await asyncio.gather(*acks)
        await failpoint_async("publish_acknowledged")
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

    async def settle_debt(self) -> None:
        """Publish every unsent row, oldest first (the batch just committed included), when an
        earlier attempt may have left some: a record's later commands never overtake them."""
        await self.drain()
        self.owes = False

    async def drain(self, *, older_than: timedelta = timedelta(0), limit: int = 1000) -> int:
        """Publish unsent rows (left by a crash or a failed publish); returns how many."""
        await self.flush_marks()
        total = 0
        while True:
            cutoff = datetime.now(timezone.utc) - older_than
            rows: Sequence[Mapping[str, Any]] = await self._store.run(_unsent_plan(cutoff, limit))
            rows = [
                r
                for r in rows
                if r["message_id"] not in self._unmarked
                and r["message_id"] not in self._in_flight
                and r["message_id"] not in self.refused
                and (r["topic"], r["msg_key"]) not in self._held
            ]
            if not rows:
                return total
            try:
                rows = await self.publish(rows)
            except KafkaError as error:
                if error.retriable:
                    raise
                rows = await self._publish_each(rows)
            total += len(rows)

    async def _publish_each(self, rows: Sequence[Mapping[str, Any]]) -> list[Mapping[str, Any]]:
        """One row at a time, after the broker refused one of them for good: the refused row is
        set aside (logged, left unsent, tried again at the next start) and holds back only the
        later rows of its own record. Returns the rows published."""
        published: list[Mapping[str, Any]] = []
        for row in rows:
            if (row["topic"], row["msg_key"]) in self._held:
                continue
            try:
                published += await self.publish([row])
            except KafkaError as error:
                if error.retriable:
                    raise
                self._set_aside(row, error)
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
