"""Produce the fixed input and read what the bridge published, on the real broker."""

from __future__ import annotations

import asyncio
import json
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any, Iterable, Sequence

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient
from aiokafka.errors import KafkaError

from bridge.settings import Settings
from bridgedev.simulate import SimMessage


async def produce_messages(
    settings: Settings, messages: Sequence[SimMessage], *, chunk: int = 2000, pause_s: float = 0.0
) -> list[Any]:
    """Send every message to its system's events topic, keyed by sys_id, in input order;
    ``chunk`` at a time (acks awaited), pausing ``pause_s`` between chunks like live systems.
    Returns the broker's record metadata (topic, partition, offset) per message."""
    producer = AIOKafkaProducer(
        bootstrap_servers=settings.kafka.bootstrap_servers,
        enable_idempotence=True,
        linger_ms=10,
        max_batch_size=512 * 1024,
    )
    await producer.start()
    written: list[Any] = []
    try:
        topics = settings.topics.events()
        for start in range(0, len(messages), chunk):
            sends = [await producer.send(topics[m.source], m.value, key=m.key) for m in messages[start : start + chunk]]
            written.extend(await asyncio.gather(*sends))
            if pause_s:
                await asyncio.sleep(pause_s)
    finally:
        await producer.stop()
    return written


async def read_to_end(settings: Settings, topics: Iterable[str], timeout_s: float = 60) -> list[Any]:
    """Every record of ``topics`` from the beginning up to their end offsets now."""
    consumer = AIOKafkaConsumer(
        bootstrap_servers=settings.kafka.bootstrap_servers,
        enable_auto_commit=False,
        group_id=None,
        auto_offset_reset="earliest",
    )
    await consumer.start()
    try:
        partitions = await partitions_of(settings, topics)
        consumer.assign(partitions)
        ends = await consumer.end_offsets(partitions)
        await consumer.seek_to_beginning(*partitions)
        records: list[Any] = []
        async with asyncio.timeout(timeout_s):
            while [tp for tp in partitions if await consumer.position(tp) < ends[tp]]:
                for batch in (await consumer.getmany(timeout_ms=500)).values():
                    records.extend(r for r in batch if r.offset < ends[TopicPartition(r.topic, r.partition)])
        return records
    finally:
        await consumer.stop()


async def partitions_of(settings: Settings, topics: Iterable[str]) -> list[TopicPartition]:
    """Every partition of ``topics``, asked of the broker (a consumer's own metadata only
    knows the topics it subscribed to)."""
    admin = AIOKafkaAdminClient(bootstrap_servers=settings.kafka.bootstrap_servers)
    await admin.start()
    try:
        described = await admin.describe_topics(list(topics))
    finally:
        await admin.close()
    found = [TopicPartition(t["topic"], p["partition"]) for t in described for p in t["partitions"]]
    assert found, f"no partitions found for {list(topics)}"
    return sorted(found)


@dataclass
class Published:
    """What the bridge published: payloads by message id (several when delivered more than once)."""

    commands: dict[str, list[bytes]] = field(default_factory=lambda: defaultdict(list))
    dead_letters: list[Any] = field(default_factory=list)

    @property
    def duplicate_deliveries(self) -> int:
        return sum(len(copies) - 1 for copies in self.commands.values())


async def published(settings: Settings) -> Published:
    """The command topics and the dead-letter topic, read to their ends."""
    found = Published()
    for record in await read_to_end(settings, settings.topics.commands().values()):
        found.commands[json.loads(record.value)["command_id"]].append(record.value)
    found.dead_letters = await read_to_end(settings, [settings.topics.dead_letters])
    return found


async def committed_offsets(settings: Settings, partitions: Sequence[TopicPartition]) -> dict[TopicPartition, int]:
    """The consumer group's committed offsets, read through the admin API (-1: none yet).
    Retries while the group's coordinator is not there yet (a group that just started)."""
    admin = AIOKafkaAdminClient(bootstrap_servers=settings.kafka.bootstrap_servers)
    await admin.start()
    try:
        for attempt in range(50):
            try:
                found = await admin.list_consumer_group_offsets(settings.consumer.group_id, partitions=list(partitions))
                break
            except KafkaError as error:
                if not error.retriable or attempt == 49:
                    raise
                await asyncio.sleep(0.2)
    finally:
        await admin.close()
    return {tp: (found[tp].offset if tp in found else -1) for tp in partitions}


async def end_offsets(settings: Settings, partitions: Sequence[TopicPartition]) -> dict[TopicPartition, int]:
    consumer = AIOKafkaConsumer(
        bootstrap_servers=settings.kafka.bootstrap_servers, group_id=None, enable_auto_commit=False
    )
    await consumer.start()
    try:
        return dict(await consumer.end_offsets(list(partitions)))
    finally:
        await consumer.stop()
