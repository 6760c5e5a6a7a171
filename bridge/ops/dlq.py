"""``bridge dlq``: list, show, retry and purge dead letters.

A retry re-injects the original payload into its original topic, with the headers
``x-bridge-replay-count`` (the entry's count + 1) and ``x-bridge-dead-letter-id``; if it fails
again, the new dead letter carries that count. An entry whose count reached the maximum is
quarantined instead of retried, which ends a retry loop.

Before re-injecting an event that failed in a flow or a mapping, the retry forgets the failed
attempt's dedupe row (``processed_events`` with outcome ``dead_lettered``): otherwise the bridge
would skip the re-injected copy as a duplicate of an event it already saw.
"""

from __future__ import annotations

import base64
from datetime import datetime
from typing import Any, Iterable, Sequence

from aiokafka import AIOKafkaProducer
from sqlalchemy import and_, delete, func, select, update
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from bridge.kafka.clients import aiokafka_client_kwargs
from bridge.pipeline.outbox import HEADER_PREFIX
from bridge.settings import Settings
from bridge.store.schema import dead_letters, outbox, processed_events

DEFAULT_MAX_REPLAYS = 3
SUMMARY_COLUMNS = (
    "id",
    "created_at",
    "reason_code",
    "stage",
    "error_class",
    "status",
    "replay_count",
    "source_topic",
    "partition",
    "offset",
    "event_id",
    "sys_id",
    "mapping_version",
)


class DeadLetterNotFound(LookupError):
    pass


async def list_dead_letters(
    conn: AsyncConnection,
    *,
    reason: str | None = None,
    since: datetime | None = None,
    status: str | None = None,
    limit: int = 1000,
) -> list[dict[str, Any]]:
    """Entries, newest first, without payloads."""
    query = select(*(dead_letters.c[c] for c in SUMMARY_COLUMNS))
    if reason:
        query = query.where(dead_letters.c.reason_code == reason)
    if since:
        query = query.where(dead_letters.c.created_at >= since)
    if status:
        query = query.where(dead_letters.c.status == status)
    rows = await conn.execute(query.order_by(dead_letters.c.created_at.desc(), dead_letters.c.id).limit(limit))
    return [dict(r) for r in rows.mappings()]


async def show_dead_letter(conn: AsyncConnection, dl_id: str) -> dict[str, Any]:
    """One entry with its detail, DLQ headers and payload (the only place payloads are shown)."""
    row = (await conn.execute(select(dead_letters).where(dead_letters.c.id == dl_id))).mappings().first()
    if row is None:
        raise DeadLetterNotFound(dl_id)
    entry = dict(row)
    payload: bytes = entry.pop("payload")
    try:
        entry["payload"], entry["payload_encoding"] = payload.decode("utf-8"), "utf-8"
    except UnicodeDecodeError:
        entry["payload"], entry["payload_encoding"] = base64.b64encode(payload).decode(), "base64"
    published = (
        await conn.execute(
            select(outbox.c.headers, outbox.c.topic, outbox.c.sent_at).where(outbox.c.message_id == "dlq-" + dl_id)
        )
    ).first()
    entry["headers"] = dict(published[0]) if published else {}
    entry["dlq_topic"] = published[1] if published else None
    entry["published_at"] = published[2] if published else None
    return entry


async def retry_candidates(
    conn: AsyncConnection, *, ids: Sequence[str] = (), reason: str | None = None, all_new: bool = False
) -> list[dict[str, Any]]:
    """Entries to retry: the given ids, or every ``new`` entry (of a reason); never retried ones."""
    query = select(*(dead_letters.c[c] for c in SUMMARY_COLUMNS))
    if ids:
        query = query.where(dead_letters.c.id.in_(list(ids)))
    elif reason:
        query = query.where(dead_letters.c.reason_code == reason, dead_letters.c.status == "new")
    elif all_new:
        query = query.where(dead_letters.c.status == "new")
    else:
        return []
    rows = await conn.execute(
        query.order_by(dead_letters.c.source_topic, dead_letters.c.partition, dead_letters.c.offset)
    )
    return [dict(r) for r in rows.mappings()]


def plan_retry(entries: Iterable[dict[str, Any]], max_replays: int) -> list[dict[str, Any]]:
    """Per entry: ``retry``, ``quarantine`` (its count reached the maximum) or ``skip`` (not new)."""
    plan = []
    for entry in entries:
        action = (
            "skip" if entry["status"] != "new" else "quarantine" if entry["replay_count"] >= max_replays else "retry"
        )
        plan.append({**entry, "action": action})
    return plan


async def execute_retry(engine: AsyncEngine, settings: Settings, plan: Sequence[dict[str, Any]]) -> dict[str, int]:
    """Carry out a plan: quarantine, forget failed dedupe rows, re-inject, mark retried."""
    retry = [p for p in plan if p["action"] == "retry"]
    quarantine = [p["id"] for p in plan if p["action"] == "quarantine"]
    async with engine.begin() as conn:
        if quarantine:
            await conn.execute(
                update(dead_letters).where(dead_letters.c.id.in_(quarantine)).values(status="quarantined")
            )
        messages = [await _message(conn, p) for p in retry]
        failed = [p for p in retry if p["event_id"] and p["sys_id"]]
        if failed:
            # By sys_id first: the dedupe key leads with it (event_id has no index).
            await conn.execute(
                delete(processed_events).where(
                    and_(
                        processed_events.c.sys_id.in_(sorted({p["sys_id"] for p in failed})),
                        processed_events.c.event_id.in_([p["event_id"] for p in failed]),
                        processed_events.c.outcome == "dead_lettered",
                    )
                )
            )
    if messages:
        producer = AIOKafkaProducer(**aiokafka_client_kwargs(settings.kafka), enable_idempotence=True, acks="all")
        await producer.start()
        try:
            acks = [await producer.send(m["topic"], m["value"], key=m["key"], headers=m["headers"]) for m in messages]
            for ack in acks:
                await ack
        finally:
            await producer.stop()
        async with engine.begin() as conn:
            await conn.execute(
                update(dead_letters).where(dead_letters.c.id.in_([p["id"] for p in retry])).values(status="retried")
            )
    return {
        "retried": len(retry),
        "quarantined": len(quarantine),
        "skipped": sum(1 for p in plan if p["action"] == "skip"),
    }


async def _message(conn: AsyncConnection, entry: dict[str, Any]) -> dict[str, Any]:
    payload = (await conn.execute(select(dead_letters.c.payload).where(dead_letters.c.id == entry["id"]))).scalar_one()
    key = (
        await conn.execute(select(outbox.c.msg_key).where(outbox.c.message_id == "dlq-" + entry["id"]))
    ).scalar_one_or_none()
    if key in (None, entry["id"]):  # the original record had no key
        key = None
    return {
        "topic": entry["source_topic"],
        "value": payload,
        "key": key.encode() if key else None,
        "headers": [
            (HEADER_PREFIX + "replay-count", str(entry["replay_count"] + 1).encode()),
            (HEADER_PREFIX + "dead-letter-id", entry["id"].encode()),
        ],
    }


async def purge(engine: AsyncEngine, before: datetime, *, execute: bool) -> int:
    """Delete entries created before ``before`` (and their published DLQ outbox rows)."""
    async with engine.begin() as conn:
        ids = [r[0] for r in await conn.execute(select(dead_letters.c.id).where(dead_letters.c.created_at < before))]
        if execute and ids:
            for i in range(0, len(ids), 500):
                chunk = ids[i : i + 500]
                await conn.execute(
                    delete(outbox).where(
                        outbox.c.message_id.in_(["dlq-" + x for x in chunk]), outbox.c.sent_at.is_not(None)
                    )
                )
                await conn.execute(delete(dead_letters).where(dead_letters.c.id.in_(chunk)))
    return len(ids)


async def count_before(conn: AsyncConnection, before: datetime) -> int:
    """How many entries ``purge`` would delete (a read: the preview)."""
    return int(
        (
            await conn.execute(select(func.count()).select_from(dead_letters).where(dead_letters.c.created_at < before))
        ).scalar_one()
    )
