"""The outbox's "sent" marks: one store transaction per batch, and nothing lost by deferring.

A batch's rows are published after its commit; their marks are written in the next batch's
transaction, or by the relay when the bridge goes idle. Rows whose marks a crash lost are
published again, with the same ids. Real store, real broker.
"""

from __future__ import annotations

from typing import Any

import pytest
from aiokafka import AIOKafkaProducer
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from bridge.runtime import DeliveryRuntime
from bridge.settings import RetrySettings, Settings
from bridge.store.schema import outbox
from tests.fixtures.events import make_event
from tests.pipeline.harness import Harness
from tests.pipeline.kafka_relay import published_ids, relay_to

pytestmark = pytest.mark.kafka


def action() -> dict[str, Any]:
    return make_event("csm-case-action-create-work-order", sys_mod_count=str(next(_counts)))


_counts = iter(range(10, 10_000))


async def _unsent(engine: AsyncEngine) -> set[str]:
    async with engine.connect() as conn:
        return set((await conn.execute(select(outbox.c.message_id).where(outbox.c.sent_at.is_(None)))).scalars())


async def test_a_batch_marks_the_previous_batchs_rows_and_an_idle_relay_marks_the_rest(
    store_engine: AsyncEngine, producer: AIOKafkaProducer, kafka_bootstrap: str, bridge_settings: Settings
) -> None:
    topics = bridge_settings.topics  # created for this test
    harness = Harness(store_engine, topics=topics)
    relay = relay_to(harness.store, producer)
    runtime = DeliveryRuntime(harness.processor, relay, RetrySettings())

    first = await runtime.run_with_retry([harness.raw(action())])
    first_ids = {r["message_id"] for r in first.outbox}
    assert first_ids and await _unsent(store_engine) == first_ids  # published, mark pending
    assert set(relay.unmarked()) == first_ids

    second = await runtime.run_with_retry([harness.raw(action())])
    second_ids = {r["message_id"] for r in second.outbox}
    assert await _unsent(store_engine) == second_ids  # the first batch's marks went with it

    await relay.flush_marks()  # what the relay loop does when no batch comes
    assert await _unsent(store_engine) == set() and relay.unmarked() == []
    assert sorted(await published_ids(kafka_bootstrap, topics.fsm_commands)) == sorted(first_ids | second_ids)


async def test_rows_whose_marks_a_crash_lost_are_published_again_with_the_same_ids(
    store_engine: AsyncEngine, producer: AIOKafkaProducer, kafka_bootstrap: str, bridge_settings: Settings
) -> None:
    topics = bridge_settings.topics
    harness = Harness(store_engine, topics=topics)
    result = await DeliveryRuntime(
        harness.processor, relay_to(harness.store, producer), RetrySettings()
    ).run_with_retry([harness.raw(action())])
    ids = {r["message_id"] for r in result.outbox}
    # The process dies here: its relay (and the pending marks) are gone. A new one starts.
    restarted = relay_to(harness.store, producer)
    assert await restarted.drain() == len(ids)
    assert await _unsent(store_engine) == set()
    published = await published_ids(kafka_bootstrap, topics.fsm_commands)
    assert sorted(published) == sorted([*ids, *ids])  # twice, same ids: the systems dedupe
