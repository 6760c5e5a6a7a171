"""Create and describe the bridge's topics (definitions in ``topics/topics.yaml``).

Topic names come from ``settings.topics`` because a deployment may rename them; partitions,
replication and configs come from the topic definitions.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Literal

import structlog
from aiokafka import AIOKafkaConsumer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.admin.config_resource import ConfigResource, ConfigResourceType
from aiokafka.errors import KafkaError, TopicAlreadyExistsError, for_code

from bridge.kafka.clients import aiokafka_client_kwargs
from bridge.kafka.diagnose import start_client
from bridge.settings import Settings
from topics import TopicSpec, load_topic_specs

log = structlog.get_logger("bridge.kafka")


class TopicAdminError(RuntimeError):
    """The broker refused to create one or more topics; ``results`` has the per-topic outcome."""

    def __init__(self, results: list[TopicCreateResult]) -> None:
        failed = [f"{result.name}: {result.error}" for result in results if result.status == "failed"]
        super().__init__("could not create topics: " + "; ".join(failed))
        self.results = results


@dataclass(frozen=True)
class TopicCreateResult:
    logical_name: str
    name: str
    status: Literal["created", "exists", "failed"]
    partitions: int
    replication_factor: int
    error: str | None = None


@dataclass(frozen=True)
class PartitionInfo:
    partition: int
    end_offset: int  # offset of the next message to be written (= messages ever written if never trimmed)


@dataclass(frozen=True)
class TopicInfo:
    logical_name: str
    name: str
    exists: bool
    partitions: tuple[PartitionInfo, ...]

    @property
    def end_offset_total(self) -> int:
        return sum(partition.end_offset for partition in self.partitions)


def deployed_name(settings: Settings, spec: TopicSpec) -> str:
    """The topic name this deployment uses for ``spec`` (``settings.topics.<logical_name>``)."""
    return str(getattr(settings.topics, spec.logical_name))


async def create_topics(settings: Settings) -> list[TopicCreateResult]:
    """Create every missing topic; existing ones are reported as ``"exists"`` and left alone.

    The replication factor is the definition's, capped at the number of brokers (a one-node
    development cluster gets 1). Raises ``TopicAdminError`` if any topic fails otherwise.
    """
    specs = load_topic_specs()
    async with _admin(settings) as admin:
        brokers = len((await admin.describe_cluster())["brokers"])
        wanted = {
            deployed_name(settings, spec): (spec, min(spec.replication_factor, max(brokers, 1))) for spec in specs
        }
        response = await admin.create_topics(
            [
                NewTopic(name, spec.partitions, replicas, topic_configs=dict(spec.configs))
                for name, (spec, replicas) in wanted.items()
            ]
        )
    # aiokafka ≥ 0.13 does not raise per topic: each topic carries its own error code.
    codes = {topic: code for topic, code, *_message in response.topic_errors}
    results = [_create_result(spec, name, replicas, codes[name]) for name, (spec, replicas) in wanted.items()]
    if any(result.status == "failed" for result in results):
        raise TopicAdminError(results)
    return results


def _create_result(spec: TopicSpec, name: str, replicas: int, code: int) -> TopicCreateResult:
    error = for_code(code)
    status: Literal["created", "exists", "failed"] = (
        "created" if code == 0 else "exists" if error is TopicAlreadyExistsError else "failed"
    )
    return TopicCreateResult(
        spec.logical_name,
        name,
        status,
        spec.partitions,
        replicas,
        error.__name__ if status == "failed" else None,
    )


async def describe_topics(settings: Settings) -> list[TopicInfo]:
    """Each defined topic under its deployed name: whether it exists, its partitions, end offsets."""
    specs = load_topic_specs()
    names = [deployed_name(settings, spec) for spec in specs]
    async with _admin(settings) as admin:
        # Ask for all topics: naming topics in a metadata request auto-creates them on
        # clusters with auto.create.topics.enable=true, and listing must never create.
        metadata = {topic["topic"]: topic for topic in await admin.describe_topics()}
    partitions = {
        name: sorted(p["partition"] for p in metadata[name]["partitions"])
        for name in names
        if name in metadata and metadata[name]["error_code"] == 0
    }
    offsets = await _end_offsets(settings, partitions)
    return [
        TopicInfo(
            spec.logical_name,
            name,
            name in partitions,
            tuple(PartitionInfo(p, offsets[TopicPartition(name, p)]) for p in partitions.get(name, [])),
        )
        for spec, name in zip(specs, names, strict=True)
    ]


async def _end_offsets(settings: Settings, partitions: dict[str, list[int]]) -> dict[TopicPartition, int]:
    wanted = [TopicPartition(topic, p) for topic, numbers in partitions.items() for p in numbers]
    if not wanted:
        return {}
    consumer = AIOKafkaConsumer(**aiokafka_client_kwargs(settings.kafka), enable_auto_commit=False)
    await start_client(consumer, settings.kafka)
    try:
        return dict(await consumer.end_offsets(wanted))
    finally:
        await consumer.stop()


@asynccontextmanager
async def _admin(settings: Settings) -> AsyncIterator[AIOKafkaAdminClient]:
    admin = AIOKafkaAdminClient(**aiokafka_client_kwargs(settings.kafka))
    await start_client(admin, settings.kafka)
    try:
        yield admin
    finally:
        await admin.close()


async def message_size_limits(settings: Settings, topics: list[str]) -> dict[str, int]:
    """``max.message.bytes`` of each topic (its own, or the broker's default), by name: the
    largest message it takes. A topic the broker does not describe is left out."""
    resources = [
        ConfigResource(ConfigResourceType.TOPIC, topic, configs={"max.message.bytes": None}) for topic in topics
    ]
    async with _admin(settings) as admin:
        responses = await admin.describe_configs(resources)
    limits: dict[str, int] = {}
    for response in responses:
        for error_code, _message, _type, name, entries in (r[:5] for r in response.resources):
            for entry in entries if error_code == 0 else ():
                if entry[0] == "max.message.bytes" and str(entry[1]).isdigit():
                    limits[name] = int(entry[1])
    return limits


async def known_message_size_limits(settings: Settings, topics: list[str]) -> dict[str, int]:
    """`message_size_limits`, or none when the broker does not answer (then a message too large
    is found out when the broker refuses it)."""
    try:
        return await message_size_limits(settings, topics)
    except (KafkaError, OSError, asyncio.TimeoutError) as error:
        log.warning("kafka.limits_unknown", error_class=type(error).__name__, topics=len(topics))
        return {}
