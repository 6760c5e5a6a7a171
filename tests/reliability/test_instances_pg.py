"""F5: PostgreSQL store, one consumer group, 1 → 3 → 1 instances during a live stream (one of
the two leaving is SIGKILLed, the other SIGTERMed): 0 lost, 0 duplicate effects."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from bridge.settings import Settings
from tests.fixtures.postgres import fresh_database
from tests.reliability.drive import Progress
from tests.reliability.fleet import Fleet
from tests.reliability.kafka_tools import produce_messages, published
from tests.reliability.oracle import application_order, ordered_run
from tests.reliability.postgres_server import StoppablePostgres
from tests.reliability.snapshot import take_snapshot
from tests.reliability.systems_check import check_systems
from tests.reliability.verdict import judge
from tests.reliability.workloads import in_phases_world

pytestmark = [pytest.mark.kafka, pytest.mark.postgres]


async def test_one_to_three_to_one_instances_lose_and_double_nothing(
    bridge_settings: Settings, fleet: Fleet, stoppable_postgres: StoppablePostgres, tmp_path: Path
) -> None:
    world, (*population, changes) = in_phases_world(seed=29, changes=5_000)
    messages = [m for phase in (*population, changes) for m in phase]
    async with fresh_database(stoppable_postgres.url) as url:
        settings = bridge_settings.model_copy(update={"store": bridge_settings.store.model_copy(update={"url": url})})
        fleet.env.update(BRIDGE_STORE__URL=url, BRIDGE_CONSUMER__MAX_RECORDS="100")
        first = fleet.start()
        async with Progress(settings) as progress:
            for phase in population:
                await produce_messages(settings, phase)
                await progress.wait_drained(60, alive=first)
        # the changes arrive live while instances join and leave
        producing = asyncio.create_task(produce_messages(settings, changes, chunk=100, pause_s=0.35))
        second, third = fleet.start(), fleet.start()
        for joined in (second, third):
            assert await fleet.wait_for_batch(joined), joined.log.read_text()[-3000:]
        assert not producing.done(), "the scaling must happen mid-stream"
        fleet.kill(second)
        await fleet.terminate(third)
        await producing
        async with Progress(settings) as progress:
            await progress.wait_drained(150, alive=first)
        await fleet.terminate(first)

        order = await application_order(url, messages)
        oracle = await ordered_run(order, settings.topics, tmp_path)
        verdict = judge(
            "postgres_1_3_1",
            oracle,
            await published(settings),
            await take_snapshot(url),
            events=len(messages),
            fleet=fleet,
        )
        systems = await check_systems(settings, world, messages, store_url=url)
    verdict.extra["batches_per_instance"] = [len(life.batch_times()) for life in fleet.lives]
    verdict.extra["offset_commit_failures_logged"] = sum(
        1 for life in fleet.lives for line in life.lines() if line.get("event") == "offsets.commit_failed"
    )
    verdict.record()
    verdict.assert_nothing_lost_nothing_doubled()
    systems.assert_right()
