"""Consumer lag the way ``kafka-consumer-groups --describe`` computes it: end offset − committed.

A partition the group never committed counts from its beginning offset (everything is lag).
"""

from __future__ import annotations

from dataclasses import dataclass

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

    async def _partitions(self) -> list[TopicPartition]:
        found = await topic_partitions(self._admin, self._topics)
        return [TopicPartition(topic, p) for topic in self._topics for p in found.get(topic, [])]

    async def sample(self) -> list[PartitionLag]:
        """Lag per partition of the event topics, for the bridge's consumer group."""
        partitions = await self._partitions()
        if not partitions:
            return []
        committed = await self._admin.list_consumer_group_offsets(self._group, partitions=partitions)
        starts = await self._consumer.beginning_offsets(partitions)
        ends = await self._consumer.end_offsets(partitions)
        return [
            PartitionLag(tp.topic, tp.partition, _offset(committed.get(tp)), starts[tp], ends[tp]) for tp in partitions
        ]


def _offset(meta: object) -> int | None:
    offset = getattr(meta, "offset", -1)
    return offset if isinstance(offset, int) and offset >= 0 else None


async def topic_partitions(admin: AIOKafkaAdminClient, topics: list[str]) -> dict[str, list[int]]:
    """Partition numbers of those ``topics`` that exist."""
    # Describe all topics: naming topics in a metadata request auto-creates them on some clusters.
    described = {t["topic"]: t for t in await admin.describe_topics()}
    return {
        topic: sorted(p["partition"] for p in described[topic]["partitions"])
        for topic in topics
        if topic in described and described[topic]["error_code"] == 0
    }
