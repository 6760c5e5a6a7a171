"""F2: SIGTERM mid-stream: the bridge exits in bounded time, nothing lost, nothing doubled, and
no event is processed twice (a graceful stop commits what it applied)."""

from __future__ import annotations

import asyncio
import random
from pathlib import Path

import pytest

from bridge.settings import Settings
from bridgedev.simulate import SimMessage
from tests.reliability.drive import Progress
from tests.reliability.fleet import Fleet
from tests.reliability.kafka_tools import produce_messages, published
from tests.reliability.oracle import application_order, ordered_run
from tests.reliability.snapshot import take_snapshot
from tests.reliability.systems_check import check_systems
from tests.reliability.verdict import judge
from tests.reliability.workloads import CLEAN, linked_world

pytestmark = pytest.mark.kafka

STOPS = 3
EXIT_WITHIN_S = 20.0


async def test_sigterm_mid_stream_exits_promptly_and_processes_nothing_twice(
    bridge_settings: Settings, fleet: Fleet, tmp_path: Path
) -> None:
    # cases hold ITSM records (linked before the changes), so ITSM updates give case notes the
    # systems' model requires exactly, across the stops
    world, messages = linked_world(seed=11, changes=5_000, mix=CLEAN, rounds=1)
    # The systems keep publishing while the bridge is stopped and started; the last part of
    # the stream waits for the stops, so that they land mid-stream however slow the machine.
    stopped = asyncio.Event()
    producing = asyncio.create_task(_publish_around(bridge_settings, messages, stopped))
    rng = random.Random(11)
    exits = []
    async with Progress(bridge_settings) as progress:
        for _ in range(STOPS):
            life = fleet.start()
            assert await fleet.wait_for_batch(life), life.log.read_text()[-3000:]
            await asyncio.sleep(rng.uniform(0.2, 1.5))
            exits.append(await fleet.terminate(life, timeout_s=EXIT_WITHIN_S))
        stopped.set()
        last = fleet.start()
        await producing
        await progress.wait_drained(120, alive=last)
    exits.append(await fleet.terminate(last, timeout_s=EXIT_WITHIN_S))

    order = await application_order(bridge_settings.store.url, messages)
    oracle = await ordered_run(order, bridge_settings.topics, tmp_path)
    store = await take_snapshot(bridge_settings.store.url)
    verdict = judge("sigterm", oracle, await published(bridge_settings), store, events=len(messages), fleet=fleet)
    verdict.extra.update(stops=STOPS, exit_s_max=round(max(exits), 2))
    verdict.record()
    verdict.assert_nothing_lost_nothing_doubled()
    systems = await check_systems(bridge_settings, world, messages)
    systems.assert_right()
    assert systems.related_notes > 50, "ITSM updates gave notes on cases"
    assert all(life.end == "sigterm" for life in fleet.lives)
    assert store.counters["events.in"] == len(messages), "an event was processed twice"
    assert store.counters.get("events.duplicate", 0) == 0
    assert verdict.duplicate_deliveries == 0, "a graceful stop marks what it published as sent"


async def _publish_around(settings: Settings, messages: list[SimMessage], stopped: asyncio.Event) -> None:
    """Three quarters of the stream paced like live systems, the rest once the stops are done."""
    split = len(messages) * 3 // 4
    await produce_messages(settings, messages[:split], chunk=100, pause_s=0.3)
    await stopped.wait()
    await produce_messages(settings, messages[split:], chunk=100, pause_s=0.1)
