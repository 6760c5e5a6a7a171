"""Consumer lag the way ``kafka-consumer-groups --describe`` computes it: end offset − committed.

A partition the group never committed counts from its beginning offset (everything is lag).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Iterable

from aiokafka import AIOKafkaConsumer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient

from bridge.kafka.clients import aiokafka_client_kwargs
from bridge.settings import Settings


@dataclass(frozen=True)
class PartitionLag:
    topic: str
    partition: int
    committed: int | None
    start_offset: int
    end_offset: int

    @property
    def lag(self) -> int:
        return self.end_offset - (self.committed if self.committed is not None else self.start_offset)


class LagProbe:
    """Holds an admin client and an offsets-only consumer; reuse it for periodic samples."""

    def __init__(self, settings: Settings, request_timeout_ms: int = 5000) -> None:
        kwargs = {**aiokafka_client_kwargs(settings.kafka), "request_timeout_ms": request_timeout_ms}
        self._group = settings.consumer.group_id
        self._topics = list(settings.topics.events().values())
        self._admin = AIOKafkaAdminClient(**kwargs)
        self._consumer = AIOKafkaConsumer(**kwargs, enable_auto_commit=False, group_id=None)
        self._started = False

    async def start(self) -> None:
        await self._admin.start()
        await self._consumer.start()
        self._started = True

    async def close(self) -> None:
        if self._started:
            await self._consumer.stop()
            await self._admin.close()
            self._started = False

    async def __aenter__(self) -> "LagProbe":
        await self.start()
        return self

    async def __aexit__(self, *_exc: object) -> None:
        await self.close()

    async def sample(self) -> list[PartitionLag]:
        """Lag per partition of the event topics, for the bridge's consumer group."""
        await self._consumer.topics()  # refresh metadata: partitions of topics created since
        partitions = _partitions(self._consumer, self._topics)
        if not partitions:
            return []
        committed = await self._admin.list_consumer_group_offsets(self._group, partitions=partitions)
        starts = await self._consumer.beginning_offsets(partitions)
        ends = await self._consumer.end_offsets(partitions)
        return [PartitionLag(tp.topic, tp.partition, _offset(committed.get(tp)), starts[tp], ends[tp])
                for tp in partitions]


def _offset(meta: object) -> int | None:
    offset = getattr(meta, "offset", -1)
    return offset if isinstance(offset, int) and offset >= 0 else None


def _partitions(consumer: AIOKafkaConsumer, topics: Iterable[str]) -> list[TopicPartition]:
    found = []
    for topic in topics:
        for partition in sorted(consumer.partitions_for_topic(topic) or ()):
            found.append(TopicPartition(topic, partition))
    return found
