"""F1: SIGKILL at random moments during a 20,000-event run loses nothing and doubles nothing.

The bridge crashes itself at the three crash points (``BRIDGE_FAILPOINTS``: inside a batch,
after the store commit, after a publish before it is marked sent) and the test SIGKILLs it at
random moments too; it is restarted until the input is consumed. The published commands and
the store must equal the oracle's ordered run of the same input.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from bridge.settings import Settings
from tests.reliability.drive import CrashPlan, Progress, run_with_crashes
from tests.reliability.fleet import Fleet
from tests.reliability.kafka_tools import produce_messages, published
from tests.reliability.oracle import application_order, ordered_run
from tests.reliability.snapshot import take_snapshot
from tests.reliability.systems_check import check_systems
from tests.reliability.verdict import judge
from tests.reliability.workloads import realistic_world

pytestmark = [pytest.mark.kafka, pytest.mark.timeout(420)]

EVENTS_WANTED = 20_000
KILLS_WANTED = 10


async def test_sigkill_ten_times_during_20000_events_loses_and_doubles_nothing(
    bridge_settings: Settings, fleet: Fleet, tmp_path: Path
) -> None:
    world, messages = realistic_world(seed=7, changes=EVENTS_WANTED - 1_181)
    assert len(messages) >= EVENTS_WANTED
    await produce_messages(bridge_settings, messages)
    # Small batches and early kills: a life must not get through the whole input (the bridge
    # does several thousand events a second here) before the wanted number of deaths.
    fleet.env["BRIDGE_CONSUMER__MAX_RECORDS"] = "100"
    plan = CrashPlan(kills_wanted=KILLS_WANTED + 2, failpoint_probability=0.03, seed=7, kill_within_s=(0.05, 0.8))
    async with Progress(bridge_settings) as progress:
        survivor = await run_with_crashes(fleet, progress, plan, timeout_s=300)
    await fleet.terminate(survivor)

    order = await application_order(bridge_settings.store.url, messages)
    oracle = await ordered_run(order, bridge_settings.topics, tmp_path)

    verdict = judge(
        "kill9",
        oracle,
        await published(bridge_settings),
        await take_snapshot(bridge_settings.store.url),
        events=len(messages),
        fleet=fleet,
    )
    verdict.extra["crash_points"] = [life.end for life in fleet.lives]
    # read after each death (no one commits then): events not yet committed when it died
    verdict.extra["lag_at_death"] = [life.lag_at_death for life in fleet.lives if life.lag_at_death is not None]
    verdict.record()
    assert verdict.kills >= KILLS_WANTED
    mid_stream = [lag for lag in verdict.extra["lag_at_death"] if lag > 0]
    assert len(mid_stream) >= KILLS_WANTED, f"kills that landed before the last commit: {verdict.extra['lag_at_death']}"
    verdict.assert_nothing_lost_nothing_doubled()
    systems = await check_systems(bridge_settings, world, messages)
    systems.assert_right()
    assert systems.presses > 2_000
