"""A batch's offsets are committed only once the broker has acknowledged all its outputs, and
that wait runs while the next batch is processed.

The broker's acknowledgements are futures the test resolves, so that each ordering is forced,
not hoped for; the processor and its SQLite store are real. Crashes at every step against the
real broker are the reliability suite's (``tests/reliability``).
"""

from __future__ import annotations

import asyncio
from typing import Any

from aiokafka.errors import KafkaTimeoutError
from aiokafka.structs import TopicPartition
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from bridge.pipeline.outbox import OutboxRelay
from bridge.runtime import DeliveryRuntime
from bridge.settings import RetrySettings
from bridge.store.schema import outbox, processed_events
from tests.fixtures.events import make_event, new_sys_id
from tests.pipeline.deliveries import Delivery, delivery_of
from tests.pipeline.harness import Harness


class Broker:
    """Takes sends and holds their acknowledgements until the test gives or refuses them."""

    def __init__(self) -> None:
        self.acks: list[asyncio.Future[None]] = []

    async def send(self, topic: str, key: bytes, value: bytes, headers: Any) -> Any:
        ack: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self.acks.append(ack)
        return ack

    def acknowledge(self) -> None:
        for ack in self.acks:
            if not ack.done():
                ack.set_result(None)

    def refuse(self) -> None:
        for ack in self.acks:
            if not ack.done():
                ack.set_exception(KafkaTimeoutError())


def _setup(engine: AsyncEngine) -> tuple[Harness, Broker, DeliveryRuntime]:
    harness, broker = Harness(engine), Broker()
    retry = RetrySettings(initial_delay_s=0.001, max_delay_s=0.001)
    return harness, broker, DeliveryRuntime(harness.processor, OutboxRelay(harness.store, broker.send), retry)


def _batch(harness: Harness, n: int = 2) -> Delivery:
    return delivery_of([harness.raw(make_event("csm-case-action-create-work-order",
                                               sys_id=new_sys_id())) for _ in range(n)])


async def _first_of_two(engine: AsyncEngine
                        ) -> tuple[Harness, Broker, DeliveryRuntime, Delivery, Delivery]:
    """Two batches of two events; the first handled, its outputs in flight."""
    harness, broker, runtime = _setup(engine)
    first, second = _batch(harness), _batch(harness)
    await runtime.handle(first)
    return harness, broker, runtime, first, second


async def _until_sent(broker: Broker, count: int) -> None:
    while len(broker.acks) < count:
        await asyncio.sleep(0.01)


async def _unsent(engine: AsyncEngine) -> int:
    async with engine.connect() as conn:
        return len((await conn.execute(select(outbox.c.message_id)
                                       .where(outbox.c.sent_at.is_(None)))).all())


async def test_offsets_are_committed_only_after_every_output_is_acknowledged(
        store_engine: AsyncEngine) -> None:
    harness, broker, runtime = _setup(store_engine)
    delivery = _batch(harness)

    await runtime.handle(delivery)
    await asyncio.sleep(0.05)  # the settling runs in the background: give it every chance

    assert len(broker.acks) == 2 and delivery.outcome == "pending"
    assert await runtime.relay.drain() == 0  # in flight: the relay does not send them again
    broker.acknowledge()
    await runtime.settle()
    last = max(r.offset for r in delivery.raw_message)
    assert delivery.outcome == "ack"
    assert delivery.committed == {TopicPartition(harness.topics.csm_events, 0): last + 1}


async def test_the_next_batch_is_processed_while_the_outputs_of_the_last_are_unacknowledged(
        store_engine: AsyncEngine) -> None:
    _, broker, runtime, first, second = await _first_of_two(store_engine)

    handling = asyncio.create_task(runtime.handle(second))
    await _until_sent(broker, 4)  # the second batch committed to the store and sent its outputs
    async with store_engine.connect() as conn:
        processed = len((await conn.execute(select(processed_events.c.event_id))).all())

    assert processed == 4 and not handling.done()  # it waits only to settle the first batch
    assert (first.outcome, second.outcome) == ("pending", "pending")
    broker.acknowledge()
    await handling
    await runtime.settle()
    assert (first.outcome, second.outcome) == ("ack", "ack")


async def test_a_refused_publish_rewinds_its_batch_and_the_next_and_commits_nothing(
        store_engine: AsyncEngine) -> None:
    harness, broker, runtime, first, second = await _first_of_two(store_engine)
    broker.refuse()

    await runtime.handle(second)
    await runtime.settle()

    assert (first.outcome, second.outcome) == ("rewound", "rewound")
    assert first.committed == second.committed == {}
    # After the second batch's rewind, the partition goes back to where the first began (when
    # the first was refused, and again after the second's seek: the last seek wins).
    assert set(first.seeks) == {(TopicPartition(harness.topics.csm_events, 0),
                                 min(r.offset for r in first.raw_message))}
    assert runtime.stats.rewinds == 1 and runtime.stats.transient_errors == 1
    # The refused rows stay unsent for the relay; the second batch's are in flight.
    assert await _unsent(store_engine) == 4

    again = delivery_of([*first.raw_message, *second.raw_message])
    await runtime.handle(again)  # fetched again: every event is already applied
    await runtime.settle()
    assert again.outcome == "ack" and len(broker.acks) == 4  # nothing new was sent


async def test_once_stopping_each_batch_is_settled_before_its_handler_returns(
        store_engine: AsyncEngine) -> None:
    _, broker, runtime, first, second = await _first_of_two(store_engine)
    broker.acknowledge()

    await runtime.stop()
    assert first.outcome == "ack"
    handling = asyncio.create_task(runtime.handle(second))
    await _until_sent(broker, 4)
    await asyncio.sleep(0.05)
    assert not handling.done()  # it waits for its own acknowledgements
    broker.acknowledge()
    await handling
    assert second.outcome == "ack"
