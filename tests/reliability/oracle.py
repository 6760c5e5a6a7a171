"""The self-comparison: the same input, delivered once, in order, through the real batch processor.

This is the second check of every scenario. It shows that faults do not change the result, not
that the result is right: a bug in a flow is copied into it. What the result must be is judged
independently by ``systems_model`` (the simulated systems answer the commands and are compared
with a hand-written model of the contract and the mappings; ``systems_check``).

It runs in-process on a fresh SQLite store (no broker, no crash, no redelivery) with the
shipped mappings and the same change hooks as the bridge. Command ids are deterministic, so a
faulty run must emit exactly the oracle's ids with the oracle's payloads.

Which order: Kafka orders events per partition (per record), not across partitions, so two
correct runs may interleave records differently — and some outputs legitimately depend on it
(a work order's location is derived from the caller's contact record, which a contact change
on another partition may update just before or just after the case asks for the work order).
``application_order`` therefore reads the order in which the faulty run first applied each
event (its dedupe table) and the oracle replays exactly that order, once each; events the run
never applied follow in input order, so a lost event still shows up as lost commands.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Sequence

from sqlalchemy import literal_column, select

from bridge.flows import default_router
from bridge.mapping import load_mapping_set
from bridge.pipeline.batch import BatchProcessor
from bridge.pipeline.factory import change_hooks
from bridge.pipeline.records import RawRecord
from bridge.settings import StoreSettings, TopicNames
from bridge.store.batch_store import open_batch_store
from bridge.store.engine import create_engine, is_sqlite
from bridge.store.migrate import upgrade
from bridge.store.schema import processed_events
from bridgedev.simulate import SimMessage
from tests.reliability.snapshot import StoreSnapshot, take_snapshot

MAPPINGS = Path(__file__).resolve().parents[2] / "mappings"


@dataclass(frozen=True)
class RunResult:
    """Commands by id (payload bytes), dead letters by id, and the store afterwards."""

    commands: dict[str, bytes]
    dead_letters: dict[str, bytes]
    store: StoreSnapshot
    url: str = ""


def raw_records(messages: Sequence[SimMessage], topics: TopicNames) -> list[RawRecord]:
    """The messages as records of one partition per topic, offsets in input order."""
    offsets: dict[str, int] = {}
    raws = []
    for message in messages:
        topic = topics.events()[message.source]
        offsets[topic] = offsets.get(topic, -1) + 1
        raws.append(RawRecord(topic, 0, offsets[topic], message.key, message.value))
    return raws


async def ordered_run(
    messages: Sequence[SimMessage],
    topics: TopicNames,
    workdir: Path,
    batch_size: int = 500,
    mappings: Path = MAPPINGS,
) -> RunResult:
    """Process ``messages`` in order, once each, in batches of ``batch_size``."""
    return await process_batches(
        [list(messages[i : i + batch_size]) for i in range(0, len(messages), batch_size)],
        topics,
        workdir,
        mappings=mappings,
    )


async def process_batches(
    batches: Sequence[Sequence[SimMessage]],
    topics: TopicNames,
    workdir: Path,
    name: str = "oracle",
    mappings: Path = MAPPINGS,
) -> RunResult:
    """Process the given batches, in order, on a fresh store ``<workdir>/<name>.db``, with the
    mapping set in ``mappings``."""
    url = f"sqlite+aiosqlite:///{workdir / name}.db"
    await upgrade(url)
    store = open_batch_store(StoreSettings(url=url))
    mapping_set = load_mapping_set(mappings)
    processor = BatchProcessor(store, topics, default_router(), lambda: mapping_set, change_hooks())
    commands: dict[str, bytes] = {}
    dead: dict[str, bytes] = {}
    raws = iter(raw_records([m for batch in batches for m in batch], topics))
    try:
        for batch in batches:
            result = await processor.process([next(raws) for _ in batch])
            for row in result.outbox:
                (commands if row["kind"] == "command" else dead)[row["message_id"]] = row["payload"]
    finally:
        await store.close()
    return RunResult(commands, dead, await take_snapshot(url), url)


def command_id(payload: bytes) -> str:
    return str(json.loads(payload)["command_id"])


def event_id_of(message: SimMessage) -> str | None:
    try:
        return str(json.loads(message.value)["event_id"])
    except (ValueError, KeyError, TypeError):
        return None


async def application_order(url: str, messages: Sequence[SimMessage]) -> list[SimMessage]:
    """``messages`` in the order the run at ``url`` first applied them (see module doc)."""
    engine = create_engine(url, writer=False)
    # SQLite: insertion order (rowid). PostgreSQL has no such order (an aborted batch's space
    # is reused), so: batch time, then per-partition offset order, which is what ordering
    # guarantees; the order across partitions inside one batch is not known there.
    order_by = (
        [literal_column("rowid")]
        if is_sqlite(url)
        else [
            processed_events.c.processed_at,
            processed_events.c.topic,
            processed_events.c.partition,
            processed_events.c.offset,
        ]
    )
    try:
        async with engine.connect() as conn:
            applied = [r[0] for r in await conn.execute(select(processed_events.c.event_id).order_by(*order_by))]
    finally:
        await engine.dispose()
    position = {event_id: i for i, event_id in enumerate(applied)}
    never = len(position)
    indexed = list(enumerate(messages))
    indexed.sort(key=lambda item: (position.get(event_id_of(item[1]) or "", never), item[0]))
    return [message for _, message in indexed]
