"""A dead letter the broker will not take as it is goes out cut down, once, and the stream goes on.

The dead-letter topic here takes messages of at most 4,000 bytes, as the relay reads from the
broker. A bad event of 50 kB and one of 2 MB (larger than the producer sends at all) are
dead-lettered in a batch with a valid event, and then more dead letters follow: every batch is
acknowledged at its first delivery, the valid event is applied, and each dead letter is on the
topic once, cut down, with its original size, digest and position in headers; the store keeps
the whole payload. Real runtime, store and broker, and an idempotent producer as the bridge's.
Without the limit known, the 2 MB one (refused by the producer itself) is cut down after the
refusal.
"""

from __future__ import annotations

import asyncio
import hashlib
import uuid
from typing import Any

import pytest
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from bridge.kafka.admin import message_size_limits
from bridge.pipeline.outbox import CUT_DOWN_BYTES
from bridge.runtime import DeliveryRuntime
from bridge.settings import Settings
from bridge.store.schema import processed_events
from tests.fixtures.events import make_event, new_sys_id
from tests.pipeline.deliveries import ISOLATE_AFTER_TWO, redeliver
from tests.pipeline.harness import Harness
from tests.pipeline.kafka_relay import relay_to

pytestmark = pytest.mark.kafka


async def _small_topic(bootstrap: str) -> str:
    name = f"test.dlq.small.{uuid.uuid4().hex[:8]}"
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await admin.start()
    try:
        await admin.create_topics([NewTopic(name, 1, 1, topic_configs={"max.message.bytes": "4000"})])
    finally:
        await admin.close()
    return name


def _not_an_object(size: int) -> bytes:
    return b"[" + b'"x",' * (size // 4) + b'"x"]'


async def _messages(bootstrap: str, topic: str) -> list[Any]:
    consumer = AIOKafkaConsumer(
        topic, bootstrap_servers=bootstrap, group_id=None, auto_offset_reset="earliest", enable_auto_commit=False
    )
    await consumer.start()
    try:
        fetched = await consumer.getmany(timeout_ms=3000)
        return [record for part in fetched.values() for record in part]
    finally:
        await consumer.stop()


async def test_a_dead_letter_too_large_for_its_topic_goes_out_cut_down_once(
    store_engine: AsyncEngine, producer: AIOKafkaProducer, kafka_bootstrap: str, bridge_settings: Settings
) -> None:
    topics = bridge_settings.topics.model_copy(update={"dead_letters": await _small_topic(kafka_bootstrap)})
    harness = Harness(store_engine, topics=topics)
    await harness.store.open()
    relay = relay_to(harness.store, producer)
    for _ in range(50):  # a topic just created is described once its metadata has spread
        relay.limits.update(await message_size_limits(bridge_settings, [topics.dead_letters]))
        if relay.limits:
            break
        await asyncio.sleep(0.2)
    assert relay.limits == {topics.dead_letters: 4000}
    runtime = DeliveryRuntime(harness.processor, relay, ISOLATE_AFTER_TWO)
    valid = make_event("csm-case-action-create-work-order", sys_id=new_sys_id())
    large = [_not_an_object(size) for size in (50_000, 2_000_000)]
    raws = [harness.raw(large[0]), harness.raw(valid), harness.raw(large[1])]

    assert await redeliver(runtime, raws, times=1) == ["ack"]
    assert await redeliver(runtime, raws, times=1) == ["ack"], "redelivered: nothing again"
    later = [harness.raw(b"[" + bytes([i])) for i in range(48, 51)]  # small, after them
    assert await redeliver(runtime, later, times=1) == ["ack"]

    async with store_engine.connect() as conn:
        processed = list((await conn.execute(select(processed_events.c.event_id))).scalars())
    assert processed == [valid["event_id"]]
    letters = {letter["offset"]: letter for letter in await harness.dead_letters()}
    assert {
        o: (d["reason_code"], d["payload"]) for o, d in letters.items() if o in (raws[0].offset, raws[2].offset)
    } == {raws[0].offset: ("not_an_object", large[0]), raws[2].offset: ("not_an_object", large[1])}

    published = await _messages(kafka_bootstrap, topics.dead_letters)
    assert len(published) == 5, "each dead letter once"
    assert [m.value for m in published[2:]] == [raw.value for raw in later]
    for message in published[:2]:
        headers = {k: v.decode() for k, v in message.headers}
        original = letters[int(headers["x-bridge-original-offset"])]["payload"]
        assert headers["x-bridge-original-topic"] == raws[0].topic
        assert headers["x-bridge-original-partition"] == "0"
        assert headers["x-bridge-truncated"] == "true"
        assert headers["x-bridge-original-size"] == str(len(original))
        assert headers["x-bridge-original-sha256"] == hashlib.sha256(original).hexdigest()
        assert message.value == original[: len(message.value)]
        assert len(message.value) in CUT_DOWN_BYTES and len(message.value) < 4000
    assert runtime.stats.failures == 0 and runtime.stats.rewinds == 0


async def test_without_the_limit_known_a_dead_letter_the_producer_refuses_goes_out_cut_down(
    store_engine: AsyncEngine, producer: AIOKafkaProducer, kafka_bootstrap: str, bridge_settings: Settings
) -> None:
    topics = bridge_settings.topics
    harness = Harness(store_engine, topics=topics)
    await harness.store.open()
    runtime = DeliveryRuntime(harness.processor, relay_to(harness.store, producer), ISOLATE_AFTER_TWO)
    large = _not_an_object(2_000_000)

    assert await redeliver(runtime, [harness.raw(large)], times=1) == ["ack"]

    [message] = await _messages(kafka_bootstrap, topics.dead_letters)
    headers = {k: v.decode() for k, v in message.headers}
    assert (headers["x-bridge-truncated"], headers["x-bridge-original-size"]) == ("true", str(len(large)))
    assert message.value == large[: max(CUT_DOWN_BYTES)]
