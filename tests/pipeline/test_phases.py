"""Where a batch's time goes: the phase clock, and the runtime reporting every phase of a
handled batch to its observers, and nothing for a batch that failed."""

from __future__ import annotations

import time
from typing import Any

import pytest
from aiokafka import AIOKafkaProducer
from sqlalchemy.ext.asyncio import AsyncEngine

from bridge.flows import default_router
from bridge.pipeline.batch import BatchProcessor
from bridge.pipeline.outbox import OutboxRelay
from bridge.pipeline.phases import PHASES, PhaseTimes
from bridge.runtime import DeliveryRuntime
from bridge.settings import RetrySettings, Settings
from bridge.store.plan import Plan
from tests.fixtures.events import make_event, new_sys_id
from tests.pipeline.deliveries import delivery_of
from tests.pipeline.harness import Harness
from tests.pipeline.kafka_relay import relay_to


def test_a_phase_counts_wall_time_and_the_threads_cpu_time_apart() -> None:
    phases = PhaseTimes()
    with phases.phase("commit"):
        time.sleep(0.05)  # waiting, as for a disk's sync
    with phases.phase("decode"):
        spin_until = time.thread_time() + 0.05
        while time.thread_time() < spin_until:  # working
            pass

    assert phases.wall["commit"] >= 0.05 and phases.cpu["commit"] < 0.02
    # The two clocks tick apart by a few microseconds; a busy phase's wall time is its CPU time.
    assert phases.cpu["decode"] >= 0.05 and phases.wall["decode"] > phases.cpu["decode"] - 1e-3


def test_times_of_a_phase_add_up_within_a_batch_and_across_batches() -> None:
    first, second = PhaseTimes(), PhaseTimes()
    for _ in range(2):
        with first.phase("publish"):
            time.sleep(0.01)
    with second.phase("publish"):
        time.sleep(0.01)
    with second.phase("settle"):
        pass
    once = first.wall["publish"]

    first.add(second)

    assert once >= 0.02
    assert first.wall["publish"] == pytest.approx(once + second.wall["publish"])
    assert set(first.wall) == set(first.cpu) == {"publish", "settle"}


class _Recorder:
    """A runtime observer that keeps the phases it is told about."""

    def __init__(self) -> None:
        self.reports: list[tuple[PhaseTimes, int]] = []

    def on_phases(self, phases: PhaseTimes, size: int) -> None:
        self.reports.append((phases, size))

    def __getattr__(self, name: str) -> Any:  # the observer's other calls: not looked at here
        return lambda *args, **kwargs: None


@pytest.mark.kafka
async def test_the_runtime_reports_every_phase_of_a_handled_batch(
    store_engine: AsyncEngine, producer: AIOKafkaProducer, bridge_settings: Settings
) -> None:
    harness = Harness(store_engine, topics=bridge_settings.topics)  # topics that exist
    recorder = _Recorder()
    runtime = DeliveryRuntime(harness.processor, relay_to(harness.store, producer), RetrySettings(), [recorder])
    raws = [harness.raw(make_event("csm-case-action-create-work-order", sys_id=new_sys_id())) for _ in range(3)]

    delivery = delivery_of(raws)
    await runtime.handle(delivery)
    await runtime.settle()

    assert delivery.outcome == "ack"
    [(phases, size)] = recorder.reports
    assert size == 3
    assert set(phases.wall) == set(phases.cpu) == set(PHASES)
    assert all(phases.wall[p] > 0 and phases.cpu[p] < phases.wall[p] + 1e-3 for p in PHASES)


async def test_a_failed_batch_reports_no_phases(store_engine: AsyncEngine) -> None:
    def hook_fails(changes: Any) -> Plan[None]:
        raise RuntimeError("a bug in a change hook")
        yield  # a plan, as hooks are

    harness = Harness(store_engine)
    recorder = _Recorder()
    processor = BatchProcessor(harness.store, harness.topics, default_router(), lambda: harness.mappings, [hook_fails])
    runtime = DeliveryRuntime(
        processor,
        OutboxRelay(harness.store, _never_sent),
        RetrySettings(initial_delay_s=0.001, max_delay_s=0.001),
        [recorder],
    )
    delivery = delivery_of([harness.raw(make_event("csm-case-action-create-work-order", sys_id=new_sys_id()))])

    await runtime.handle(delivery)

    assert delivery.outcome == "rewound" and recorder.reports == []


async def _never_sent(*args: Any) -> Any:
    raise AssertionError("a failed batch publishes nothing")
