"""F7: batches failed by an unexpected (non-transient) error are fetched again, never skipped.

The bridge raises a plain ``RuntimeError`` (``BRIDGE_FAILPOINTS=…:raise``) inside a batch, after
the store commit and after a publish. FastStream, left alone, would neither commit nor seek
after such an error, and the next batch's commit would cover the failed one's events: lost.
The bridge must rewind instead, in the same process, and end with the oracle's commands and
store. Real broker, real store.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from bridge.settings import Settings
from tests.reliability.drive import Progress
from tests.reliability.fleet import Fleet
from tests.reliability.kafka_tools import produce_messages, published
from tests.reliability.oracle import application_order, ordered_run
from tests.reliability.snapshot import take_snapshot
from tests.reliability.systems_check import check_systems
from tests.reliability.verdict import judge
from tests.reliability.workloads import CLEAN, linked_phases

pytestmark = [pytest.mark.kafka, pytest.mark.timeout(300)]

RAISING = "inside_batch=0.2:raise,after_store_commit=0.2:raise,after_publish=0.2:raise"


async def test_batches_failed_by_a_bug_are_rewound_and_nothing_is_lost_or_doubled(
    bridge_settings: Settings, fleet: Fleet, tmp_path: Path
) -> None:
    # cases hold ITSM records, so the ITSM updates give notes the systems' model checks; the
    # links (CSM's topic) are consumed before the lifecycle steps (ITSM's) that report on them
    world, (linking, changes) = linked_phases(seed=23, changes=3_000, mix=CLEAN, rounds=1)
    messages = linking + changes
    await produce_messages(bridge_settings, linking)
    # Random faults fail a batch at random, not because of one record: taking batches apart
    # (tests/pipeline/test_poison_batches.py) would dead-letter innocent records here.
    fleet.env.update(
        BRIDGE_CONSUMER__MAX_RECORDS="100",
        BRIDGE_RETRY__INITIAL_DELAY_S="0.05",
        BRIDGE_RETRY__MAX_DELAY_S="0.2",
        BRIDGE_RETRY__ISOLATE_AFTER="1000000",
    )
    life = fleet.start(BRIDGE_FAILPOINTS=RAISING)
    async with Progress(bridge_settings) as progress:
        await progress.wait_drained(180, alive=life)
        await produce_messages(bridge_settings, changes)
        await progress.wait_drained(180, alive=life)
    await fleet.terminate(life)

    failures = [line for line in life.lines() if line.get("event") == "batch.failed"]
    order = await application_order(bridge_settings.store.url, messages)
    oracle = await ordered_run(order, bridge_settings.topics, tmp_path)
    found = await published(bridge_settings)
    store = await take_snapshot(bridge_settings.store.url)
    verdict = judge("unexpected_errors", oracle, found, store, events=len(messages), fleet=fleet)
    verdict.extra["batch_failures"] = len(failures)
    verdict.extra["batches"] = sum(1 for line in life.lines() if line.get("event") == "batch.done")
    verdict.record()
    assert found.dead_letters == [], "a failed batch is not the events' fault"
    verdict.assert_nothing_lost_nothing_doubled()
    systems = await check_systems(bridge_settings, world, messages)
    systems.assert_right()
    assert systems.related_notes > 50, "ITSM updates gave notes on cases"
    assert len(failures) >= 5, "the failpoints fired often enough to mean something"
    assert {line["error_class"] for line in failures} == {"FailpointError"}
    assert all("failpoints.py" in line["raised_at"] for line in failures)
    assert len(fleet.lives) == 1 and life.end == "sigterm", "it rode the errors out, no restart"
