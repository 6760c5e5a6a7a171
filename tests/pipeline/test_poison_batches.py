"""A batch that an unexpected error keeps failing is rewound, then taken one record at a time.

The bug here sits outside any flow, in a change hook of the batch's flush, and only one record's
data triggers it. The runtime rewinds the batch ``isolate_after`` times, then processes its
records one at a time: the others go through, the culprit is dead-lettered, the batch is
acknowledged. Real processor, real SQLite store, real broker for the outbox.
"""

from __future__ import annotations

from typing import Any, Sequence

import pytest
from aiokafka import AIOKafkaProducer
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from bridge.flows import default_router
from bridge.pipeline.batch import BatchProcessor
from bridge.runtime import DeliveryRuntime
from bridge.settings import Settings
from bridge.store.changes import RecordChange
from bridge.store.plan import Plan
from bridge.store.schema import outbox, processed_events
from bridge.visibility import maintenance_plan
from tests.fixtures.events import make_event, new_sys_id
from tests.pipeline.deliveries import ISOLATE_AFTER_TWO, redeliver
from tests.pipeline.harness import Harness
from tests.pipeline.kafka_relay import published_ids, relay_to

pytestmark = pytest.mark.kafka


def _hook_failing_for(sys_id: str) -> Any:
    def hook(changes: Sequence[RecordChange]) -> Plan[None]:
        if any(change.sys_id == sys_id for change in changes):
            raise TypeError("a bug in an index hook")
        yield from maintenance_plan(changes)

    return hook


def _requests(n: int) -> list[dict[str, Any]]:
    return [make_event("csm-case-action-create-work-order", sys_id=new_sys_id()) for _ in range(n)]


async def test_a_batch_that_keeps_failing_is_taken_apart_and_only_the_culprit_is_dead_lettered(
    store_engine: AsyncEngine, producer: AIOKafkaProducer, kafka_bootstrap: str, bridge_settings: Settings
) -> None:
    topics = bridge_settings.topics
    harness = Harness(store_engine, topics=topics)
    events = _requests(4)
    culprit = events[2]
    processor = BatchProcessor(
        harness.store, topics, default_router(), lambda: harness.mappings, [_hook_failing_for(culprit["sys_id"])]
    )
    runtime = DeliveryRuntime(processor, relay_to(harness.store, producer), ISOLATE_AFTER_TWO)
    raws = [harness.raw(event) for event in events]

    assert await redeliver(runtime, raws) == ["rewound", "rewound", "ack"]
    async with store_engine.connect() as conn:
        processed = set((await conn.execute(select(processed_events.c.event_id))).scalars())
        commands = (
            await conn.execute(select(outbox.c.cause_event_id, outbox.c.target_table).where(outbox.c.kind == "command"))
        ).all()
    others = {e["event_id"] for e in events} - {culprit["event_id"]}
    assert processed == others
    assert sorted(commands) == sorted((event_id, "wm_order") for event_id in others)
    [letter] = await harness.dead_letters()
    assert (letter["event_id"], letter["stage"], letter["reason_code"], letter["error_class"]) == (
        culprit["event_id"],
        "batch",
        "internal_error",
        "TypeError",
    )
    assert await published_ids(kafka_bootstrap, topics.dead_letters) == ["dlq-" + letter["id"]]
    assert runtime.stats.failures == 2 and runtime.stats.consecutive_failures == 0


async def test_a_record_already_applied_is_not_dead_lettered_when_taken_apart(store_engine: AsyncEngine) -> None:
    harness = Harness(store_engine)
    [event] = _requests(1)
    raw = harness.raw(event)
    await harness.processor.process([raw])  # applied; say its publish failed afterwards

    result = await harness.processor.dead_letter_alone(raw, RuntimeError("publish bug"))

    assert (result.outbox, result.outcomes) == ([], {}) and await harness.dead_letters() == []
