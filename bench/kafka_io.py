"""Broker plumbing for the harness: topics, producing, offsets, reading a topic back."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.errors import CoordinatorNotAvailableError, GroupCoordinatorNotAvailableError

PARTITIONS = 3  # as topics/topics.yaml: the bridge's event and command topics have 3


@dataclass(frozen=True, slots=True)
class OutMessage:
    """One message to produce."""

    topic: str
    key: bytes | None
    value: bytes
    headers: tuple[tuple[str, bytes], ...] = ()


def unique(prefix: str) -> str:
    return f"bench.{prefix}.{uuid.uuid4().hex[:8]}"


async def create_topics(bootstrap: str, names: Iterable[str], partitions: int = PARTITIONS) -> None:
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await admin.start()
    try:
        await admin.create_topics([NewTopic(name, partitions, 1) for name in names])
    finally:
        await admin.close()


def variant_producer(bootstrap: str) -> AIOKafkaProducer:
    """The producer the passthroughs use: the bridge's own configuration (FastStream's
    defaults: linger 0, 16 KiB batches) with idempotence, hence acks=all."""
    return AIOKafkaProducer(bootstrap_servers=bootstrap, enable_idempotence=True)


def loader_producer(bootstrap: str) -> AIOKafkaProducer:
    """The harness's own producer (pre-filling, pacing): idempotent, larger batches."""
    return AIOKafkaProducer(
        bootstrap_servers=bootstrap, enable_idempotence=True, linger_ms=2, max_batch_size=256 * 1024
    )


async def produce(bootstrap: str, messages: Sequence[OutMessage], chunk: int = 2000) -> list[Any]:
    """Send everything (no await per message); returns the RecordMetadata of each, in order."""
    client = loader_producer(bootstrap)
    await client.start()
    metadata: list[Any] = []
    try:
        for start in range(0, len(messages), chunk):
            futures = [
                await client.send(m.topic, m.value, key=m.key, headers=list(m.headers))
                for m in messages[start : start + chunk]
            ]
            metadata.extend(await asyncio.gather(*futures))
    finally:
        await client.stop()
    return metadata


async def end_offsets(bootstrap: str, topics: Sequence[str]) -> dict[TopicPartition, int]:
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, enable_auto_commit=False)
    await consumer.start()
    try:
        partitions = [TopicPartition(t, p) for t in topics for p in range(PARTITIONS)]
        return dict(await consumer.end_offsets(partitions))
    finally:
        await consumer.stop()


class GroupWatch:
    """Reads a consumer group's committed offsets (how far a variant got)."""

    def __init__(self, bootstrap: str, group: str) -> None:
        self._admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
        self.group = group

    async def __aenter__(self) -> GroupWatch:
        await self._admin.start()
        return self

    async def __aexit__(self, *_exc: object) -> None:
        await self._admin.close()

    async def committed(self) -> int:
        """Sum of the group's committed offsets (0 until it has a coordinator and commits)."""
        try:
            offsets = await self._admin.list_consumer_group_offsets(self.group)
        except (GroupCoordinatorNotAvailableError, CoordinatorNotAvailableError):
            return 0  # a fresh broker creates __consumer_offsets on the first group
        return sum(meta.offset for meta in offsets.values() if meta.offset > 0)

    async def stable(self) -> bool:
        """The group has members with partitions assigned: the variant is consuming."""
        try:
            responses = await self._admin.describe_consumer_groups([self.group])
        except (GroupCoordinatorNotAvailableError, CoordinatorNotAvailableError):
            return False
        return any(_state_of(response) == "Stable" for response in responses)


def _state_of(description: Any) -> str:
    # aiokafka returns a DescribeGroupsResponse: groups = [(error, group, state, ...)]
    groups = getattr(description, "groups", None) or []
    return str(groups[0][2]) if groups else ""


async def read_all(
    bootstrap: str, topics: Sequence[str], expected: int | None = None, idle_s: float = 2.0, timeout_s: float = 120.0
) -> list[Any]:
    """Every record of the topics (until ``expected`` read, or nothing new for ``idle_s``)."""
    consumer = AIOKafkaConsumer(
        *topics, bootstrap_servers=bootstrap, group_id=None, auto_offset_reset="earliest", enable_auto_commit=False
    )
    await consumer.start()
    records: list[Any] = []
    loop = asyncio.get_running_loop()
    try:
        deadline, last_new = loop.time() + timeout_s, loop.time()
        while loop.time() < deadline and loop.time() - last_new < idle_s:
            batch = await consumer.getmany(timeout_ms=200, max_records=5000)
            for part in batch.values():
                records.extend(part)
                last_new = loop.time()
            if expected is not None and len(records) >= expected:
                break
        return records
    finally:
        await consumer.stop()
