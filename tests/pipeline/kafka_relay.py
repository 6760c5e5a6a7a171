"""The outbox relay on a real broker, and what reached a topic, for the pipeline's tests."""

from __future__ import annotations

from typing import Any

from aiokafka import AIOKafkaProducer

from bridge.pipeline.outbox import OutboxRelay
from bridge.store.batch_store import BatchStore
from tests.fixtures.kafka import read_to_end


def relay_to(store: BatchStore, producer: AIOKafkaProducer) -> OutboxRelay:
    """A relay publishing with ``producer``, as the bridge's FastStream publishers do."""

    async def send(topic: str, key: bytes, value: bytes, headers: Any) -> Any:
        return await producer.send(topic, value, key=key, headers=[(k, v.encode()) for k, v in headers.items()])

    return OutboxRelay(store, send)


async def published_ids(bootstrap: str, topic: str) -> list[str]:
    """The ``x-bridge-message-id`` of every message on ``topic`` now (the relay has had each
    acknowledged before it returned: read to the end offsets, no time-out to outlast)."""
    return [dict(r.headers)["x-bridge-message-id"].decode() for r in await read_to_end(bootstrap, topic)]
