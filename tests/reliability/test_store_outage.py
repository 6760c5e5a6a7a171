"""F6: store outages. Consumption pauses while the store cannot write and resumes after;
transient errors are retried, never dead-lettered, and nothing is lost."""

from __future__ import annotations

import asyncio
import sqlite3
from pathlib import Path

import pytest
from sqlalchemy.engine import make_url

from bridge.settings import Settings
from bridgedev.simulate import SimWorld
from tests.fixtures.postgres import fresh_database
from tests.reliability.drive import Progress
from tests.reliability.fleet import Fleet
from tests.reliability.kafka_tools import produce_messages, published
from tests.reliability.oracle import application_order, ordered_run
from tests.reliability.postgres_server import StoppablePostgres
from tests.reliability.snapshot import take_snapshot
from tests.reliability.systems_check import check_systems
from tests.reliability.verdict import judge
from tests.reliability.workloads import in_phases_world, realistic_world

pytestmark = pytest.mark.kafka

OUTAGE_S = 5.0


def _transient_errors(fleet: Fleet) -> int:
    return sum(1 for life in fleet.lives for line in life.lines() if line.get("event") == "batch.transient_error")


async def _finish_and_judge(
    scenario: str, settings: Settings, fleet: Fleet, world: SimWorld, messages: list, tmp_path: Path
) -> None:
    async with Progress(settings) as progress:
        await progress.wait_drained(120, alive=fleet.lives[-1])
    await fleet.terminate(fleet.lives[-1])
    assert len(fleet.lives) == 1, "the bridge must ride out the outage without a restart"
    order = await application_order(settings.store.url, messages)
    oracle = await ordered_run(order, settings.topics, tmp_path)
    found = await published(settings)
    store = await take_snapshot(settings.store.url)
    verdict = judge(scenario, oracle, found, store, events=len(messages), fleet=fleet)
    verdict.extra.update(outage_s=OUTAGE_S, transient_errors=_transient_errors(fleet))
    verdict.record()
    assert found.dead_letters == [] and store.counters.get("events.dead_lettered", 0) == 0
    assert _transient_errors(fleet) > 0, "the outage was noticed and retried"
    verdict.assert_nothing_lost_nothing_doubled()
    (await check_systems(settings, world, messages)).assert_right()


async def test_sqlite_locked_by_another_writer_pauses_and_resumes(
    bridge_settings: Settings, fleet: Fleet, tmp_path: Path
) -> None:
    world, messages = realistic_world(seed=17, changes=5_000)
    await produce_messages(bridge_settings, messages)
    fleet.env.update(BRIDGE_CONSUMER__MAX_RECORDS="100", BRIDGE_STORE__BUSY_TIMEOUT_MS="500")
    life = fleet.start()
    assert await fleet.wait_for_batch(life), life.log.read_text()[-3000:]

    blocker = sqlite3.connect(make_url(bridge_settings.store.url).database, timeout=30, isolation_level=None)
    async with Progress(bridge_settings) as progress:
        blocker.execute("BEGIN IMMEDIATE")  # another writer holds the write lock
        try:
            await asyncio.sleep(1.0)
            lag_during = await progress.lag()
            await asyncio.sleep(OUTAGE_S - 1.0)
            assert await progress.lag() == lag_during > 0, "no offset moves while the store is locked"
        finally:
            blocker.execute("ROLLBACK")
            blocker.close()
    await _finish_and_judge("sqlite_locked", bridge_settings, fleet, world, messages, tmp_path)


@pytest.mark.postgres
async def test_postgres_stopped_and_started_pauses_and_resumes(
    bridge_settings: Settings, fleet: Fleet, stoppable_postgres: StoppablePostgres, tmp_path: Path
) -> None:
    async with fresh_database(stoppable_postgres.url) as url:
        settings = bridge_settings.model_copy(update={"store": bridge_settings.store.model_copy(update={"url": url})})
        fleet.env.update(BRIDGE_STORE__URL=url, BRIDGE_CONSUMER__MAX_RECORDS="100")
        world, (*population, changes) = in_phases_world(seed=19, changes=4_000)
        life = fleet.start()
        async with Progress(settings) as progress:
            for phase in population:
                await produce_messages(settings, phase)
                await progress.wait_drained(60, alive=life)
            await produce_messages(settings, changes)
            assert await fleet.wait_for_batch(life)
            assert await progress.lag() > 0, "the outage must land mid-stream"
        stoppable_postgres.stop()
        await asyncio.sleep(OUTAGE_S)
        assert life.alive, "the bridge must ride out a store outage"
        stoppable_postgres.start()
        messages = [m for phase in (*population, changes) for m in phase]
        await _finish_and_judge("postgres_restart", settings, fleet, world, messages, tmp_path)
