"""The transactional outbox: rows written with the batch, published after commit, marked sent.

Rows are published in ``seq`` order, keyed by their target record, so the commands for one
record leave in the order they were decided. A row published twice (a crash between the
publish and the mark) carries the same ``message_id``/``command_id`` both times; the target
systems treat it as an idempotency key.
"""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta, timezone
from typing import Any, Awaitable, Callable, Mapping, Sequence

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncEngine

from bridge.failpoints import failpoint
from bridge.store.schema import outbox

#: Sends one message and returns an awaitable that completes when the broker acknowledged it.
Send = Callable[[str, bytes, bytes, Mapping[str, str]], Awaitable[Awaitable[Any]]]

HEADER_PREFIX = "x-bridge-"


def command_row(*, command: Any, topic: str, headers: Mapping[str, str], cause_event_id: str,
                cause_sys_id: str, rule: str, mapping_version: str | None,
                now: datetime) -> dict[str, Any]:
    """An outbox row for a contract command (``connectors.common.Command``)."""
    key = command.sys_id or command.correlation_id
    return {
        "message_id": command.command_id, "kind": "command", "topic": topic, "msg_key": key,
        "payload": command.to_json(), "headers": dict(headers), "target": command.target,
        "target_table": command.table, "target_sys_id": command.sys_id or None,
        "correlation_id": command.correlation_id or None, "cause_event_id": cause_event_id,
        "cause_sys_id": cause_sys_id, "rule": rule, "mapping_version": mapping_version,
        "created_at": now, "sent_at": None,
    }


class OutboxRelay:
    """Publishes outbox rows; one instance per process, shared by the batch path and the relay."""

    def __init__(self, engine: AsyncEngine, send: Send) -> None:
        self._engine = engine
        self._send = send
        self._lock = asyncio.Lock()
        self.published = 0

    async def publish(self, rows: Sequence[Mapping[str, Any]]) -> None:
        """Publish rows (already committed) without awaiting each, then mark them sent."""
        if not rows:
            return
        async with self._lock:
            acks = [await self._send(r["topic"], r["msg_key"].encode(), r["payload"],
                                     _headers(r)) for r in rows]
            await asyncio.gather(*acks)
            failpoint("after_publish")
            await self._mark_sent([r["message_id"] for r in rows])
            self.published += len(rows)

    async def drain(self, *, older_than: timedelta = timedelta(0), limit: int = 1000) -> int:
        """Publish unsent rows (left by a crash or a failed publish); returns how many."""
        total = 0
        while True:
            cutoff = datetime.now(timezone.utc) - older_than
            async with self._engine.connect() as conn:
                rows = (await conn.execute(
                    select(outbox).where(outbox.c.sent_at.is_(None), outbox.c.created_at <= cutoff)
                    .order_by(outbox.c.seq).limit(limit)
                )).mappings().all()
            if not rows:
                return total
            await self.publish(rows)
            total += len(rows)

    async def backlog(self) -> int:
        from sqlalchemy import func
        async with self._engine.connect() as conn:
            return int((await conn.execute(
                select(func.count()).select_from(outbox).where(outbox.c.sent_at.is_(None))
            )).scalar_one())

    async def _mark_sent(self, message_ids: list[str]) -> None:
        now = datetime.now(timezone.utc)
        async with self._engine.begin() as conn:
            for i in range(0, len(message_ids), 500):
                await conn.execute(update(outbox).where(
                    outbox.c.message_id.in_(message_ids[i:i + 500])).values(sent_at=now))


def _headers(row: Mapping[str, Any]) -> dict[str, str]:
    headers = {str(k): str(v) for k, v in (row.get("headers") or {}).items()}
    headers.setdefault(HEADER_PREFIX + "message-id", row["message_id"])
    return headers
