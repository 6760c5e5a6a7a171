"""F3: the broker stops and comes back mid-stream; the bridge recovers by itself, 0 lost."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

import pytest

from bridge.kafka.admin import create_topics
from bridgedev.kafka.local_broker import LocalKafka
from tests.fixtures.kafka import settings_as_env, unique_test_settings
from tests.reliability.conftest import FAST_GROUP
from tests.reliability.drive import Progress
from tests.reliability.fleet import Fleet
from tests.reliability.kafka_tools import produce_messages, published
from tests.reliability.oracle import application_order, ordered_run
from tests.reliability.snapshot import take_snapshot
from tests.reliability.systems_check import check_systems
from tests.reliability.verdict import judge
from tests.reliability.workloads import realistic_world

pytestmark = pytest.mark.kafka

OUTAGE_S = 6.0


async def test_broker_outage_mid_stream_recovers_without_a_restart(own_kafka: LocalKafka, tmp_path: Path) -> None:
    settings = unique_test_settings(own_kafka.bootstrap_servers, tmp_path)
    await create_topics(settings)
    world, messages = realistic_world(seed=13, changes=4_000)
    await produce_messages(settings, messages)
    fleet = Fleet({**settings_as_env(settings), **FAST_GROUP, "BRIDGE_CONSUMER__MAX_RECORDS": "20"}, tmp_path)
    try:
        life = fleet.start()
        assert await fleet.wait_for_batch(life), life.log.read_text()[-3000:]
        async with Progress(settings) as progress:
            lag_at_outage = await progress.lag()
        assert lag_at_outage > 0, "the outage must land mid-stream"
        await own_kafka.stop(keep_data=True)
        await asyncio.sleep(OUTAGE_S)
        assert life.alive, "the bridge must ride out a broker outage"
        await own_kafka.start()
        back = time.time()
        async with Progress(settings) as progress:
            await progress.wait_drained(150, alive=life)
        await fleet.terminate(life)
    finally:
        await fleet.stop_all()

    assert len(fleet.lives) == 1  # recovered by itself: no restart
    order = await application_order(settings.store.url, messages)
    oracle = await ordered_run(order, settings.topics, tmp_path)
    verdict = judge(
        "broker_restart",
        oracle,
        await published(settings),
        await take_snapshot(settings.store.url),
        events=len(messages),
        fleet=fleet,
    )
    resumed = min(t for t in life.batch_times() if t > back)
    verdict.extra.update(
        outage_s=OUTAGE_S, lag_at_outage=lag_at_outage, resumed_after_broker_back_s=round(resumed - back, 2)
    )
    verdict.record()
    verdict.assert_nothing_lost_nothing_doubled()
    (await check_systems(settings, world, messages)).assert_right()
