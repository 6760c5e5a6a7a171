"""A batch's offsets are committed only once the broker has acknowledged all its outputs, and
that wait runs while the next batch is processed.

In the first tests the broker's acknowledgements are futures the test resolves, so that each
ordering is forced, not hoped for; the processor and its SQLite store are real. The last runs
the bridge process on the real broker, its acknowledgements held by a failpoint, and reads the
group's committed offsets through the admin API. Crashes at every step against the real broker
are the reliability suite's (``tests/reliability``).
"""

from __future__ import annotations

import asyncio
import signal
import subprocess
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest
from aiokafka.errors import KafkaTimeoutError
from aiokafka.structs import TopicPartition
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from bridge.pipeline.outbox import OutboxRelay
from bridge.runtime import DeliveryRuntime
from bridge.settings import RetrySettings, Settings
from bridge.store.schema import outbox, processed_events
from tests.e2e.kafka_io import collect, produce, start_bridge
from tests.fixtures.events import make_event, new_sys_id
from tests.pipeline.deliveries import Delivery, delivery_of
from tests.pipeline.harness import Harness
from tests.reliability.kafka_tools import committed_offsets, end_offsets, partitions_of


class Broker:
    """Takes sends and holds their acknowledgements until the test gives or refuses them."""

    def __init__(self) -> None:
        self.acks: list[asyncio.Future[None]] = []
        self.sent: list[str] = []  # message ids, in the order sent

    async def send(self, topic: str, key: bytes, value: bytes, headers: Any) -> Any:
        ack: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self.acks.append(ack)
        self.sent.append(headers["x-bridge-message-id"])
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
    return delivery_of(
        [harness.raw(make_event("csm-case-action-create-work-order", sys_id=new_sys_id())) for _ in range(n)]
    )


async def _first_of_two(engine: AsyncEngine) -> tuple[Harness, Broker, DeliveryRuntime, Delivery, Delivery]:
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
        return len((await conn.execute(select(outbox.c.message_id).where(outbox.c.sent_at.is_(None)))).all())


async def test_offsets_are_committed_only_after_every_output_is_acknowledged(store_engine: AsyncEngine) -> None:
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
    store_engine: AsyncEngine,
) -> None:
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


async def test_a_refused_publish_rewinds_its_batch_and_its_rows_go_out_before_any_later(
    store_engine: AsyncEngine,
) -> None:
    harness, broker, runtime, first, second = await _first_of_two(store_engine)
    broker.refuse()
    await runtime.settle()

    assert first.outcome == "rewound" and first.committed == {}
    assert set(first.seeks) == {
        (TopicPartition(harness.topics.csm_events, 0), min(r.offset for r in first.raw_message))
    }
    assert runtime.stats.rewinds == 1 and runtime.stats.transient_errors == 1
    assert await _unsent(store_engine) == 2  # the refused rows stay unsent

    # The next batch sends them before its own, in the order they were decided: a record's
    # later commands never overtake its earlier ones.
    handling = asyncio.create_task(runtime.handle(second))
    await _until_sent(broker, 6)
    assert broker.sent[2:4] == broker.sent[:2]
    broker.acknowledge()
    await handling
    await runtime.settle()
    assert second.outcome == "ack" and await _unsent(store_engine) == 0

    again = delivery_of(first.raw_message)
    await runtime.handle(again)  # fetched again: its events are applied, its rows sent
    await runtime.settle()
    assert again.outcome == "ack" and len(broker.acks) == 6  # nothing new was sent


async def test_once_stopping_each_batch_is_settled_before_its_handler_returns(store_engine: AsyncEngine) -> None:
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


@pytest.mark.kafka
async def test_on_a_real_broker_offsets_stay_put_while_the_acknowledgements_are_held(
    bridge_settings: Settings, bridge_env: dict[str, str], tmp_path: Path
) -> None:
    """The real bridge process, broker and store: the failpoint ``publish_acknowledged`` holds
    each batch where the broker's acknowledgement of its outputs arrives; the group's committed
    offsets, read through the admin API, do not move until it is let through."""
    presses = [make_event("csm-case-action-create-work-order", sys_id=new_sys_id()) for _ in range(EVENTS)]
    await produce(bridge_settings, presses)
    partitions = await partitions_of(bridge_settings, [bridge_settings.topics.csm_events])
    hold, reached = tmp_path / "publish_acknowledged.hold", tmp_path / "publish_acknowledged.reached"
    hold.touch()
    process = start_bridge(
        {
            **bridge_env,
            "BRIDGE_FAILPOINTS": "publish_acknowledged=1:hold",
            "BRIDGE_FAILPOINT_DIR": str(tmp_path),
            "BRIDGE_CONSUMER__MAX_RECORDS": "10",
            "BRIDGE_CONSUMER__COMMIT_INTERVAL_MS": "0",
        },
        log_path=str(tmp_path / "bridge.log"),
    )
    try:
        # Two batches held: the bridge went on to the next batch after the first one's outputs
        # were acknowledged, which is when a commit that did not wait would have been made.
        await _until(lambda: reached.exists() and len(reached.read_text().split()) >= 2, process, tmp_path)
        on_topic = await collect(bridge_settings, bridge_settings.topics.fsm_commands, lambda m: len(m) >= 20)
        assert len(on_topic) >= 20, "the broker has the held batches' commands"
        for _ in range(10):  # and for a while after (ten commit intervals of the default)
            committed = await committed_offsets(bridge_settings, partitions)
            assert all(offset <= 0 for offset in committed.values()), committed
            await asyncio.sleep(0.2)

        hold.unlink()
        ends = await end_offsets(bridge_settings, partitions)
        await _until_async(lambda: _all_committed(bridge_settings, partitions, ends), process, tmp_path)
    finally:
        process.send_signal(signal.SIGTERM)
        process.wait(timeout=30)


EVENTS = 30


async def _all_committed(settings: Settings, partitions: list[TopicPartition], ends: dict[TopicPartition, int]) -> bool:
    return await committed_offsets(settings, partitions) == ends


async def _until(
    condition: Callable[[], bool], process: subprocess.Popen[bytes], logs: Path, timeout_s: float = 90
) -> None:
    async def check() -> bool:
        return condition()

    await _until_async(check, process, logs, timeout_s)


async def _until_async(
    condition: Callable[[], Awaitable[bool]], process: subprocess.Popen[bytes], logs: Path, timeout_s: float = 90
) -> None:
    deadline = asyncio.get_running_loop().time() + timeout_s
    while not await condition():
        assert process.poll() is None, (logs / "bridge.log").read_text()[-3000:]
        assert asyncio.get_running_loop().time() < deadline, "timed out"
        await asyncio.sleep(0.1)
