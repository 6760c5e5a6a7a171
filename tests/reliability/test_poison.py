"""F7: poison messages of each data-error class among valid ones: each lands in the DLQ once
with its headers, every valid event is processed, and the counters reconcile exactly; on SQLite
and on PostgreSQL."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from bridge.settings import Settings
from bridge.store.engine import create_engine
from bridge.store.schema import dead_letters, processed_events
from tests.reliability.drive import Progress
from tests.reliability.fleet import Fleet
from tests.reliability.kafka_tools import produce_messages, published
from tests.reliability.oracle import event_id_of
from tests.reliability.poison import interleave, poisons_from
from tests.reliability.snapshot import take_snapshot
from tests.reliability.workloads import realistic_input

pytestmark = pytest.mark.kafka

#: every outcome an event can have (bridge.pipeline.batch and bridge.flows.*)
OUTCOMES = {"applied", "dead_lettered", "duplicate", "stale", "echo", "unlinked", "refused", "no_news"}
HEADERS = (
    "original-topic",
    "original-partition",
    "original-offset",
    "stage",
    "error-class",
    "reason",
    "mapping-version",
    "dead-letter-id",
)


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def postgres_url_or_none(request: pytest.FixtureRequest) -> str | None:
    """A fresh PostgreSQL database, or None for the fleet's own SQLite store."""
    return None if request.param == "sqlite" else str(request.getfixturevalue("postgres_database"))


async def test_each_poison_is_dead_lettered_once_and_the_stream_goes_on(
    bridge_settings: Settings, fleet: Fleet, postgres_url_or_none: str | None
) -> None:
    url = postgres_url_or_none
    if url is not None:  # where a value no column holds once stalled the stream for good
        bridge_settings = bridge_settings.model_copy(
            update={"store": bridge_settings.store.model_copy(update={"url": url})}
        )
        fleet.env["BRIDGE_STORE__URL"] = url
    valid = realistic_input(seed=23, changes=1_500, size="tiny")
    poisons = poisons_from(valid, seed=23)
    stream = interleave(valid, poisons, seed=23)
    written = await produce_messages(bridge_settings, stream)
    position = {id(m): (meta.topic, meta.partition, meta.offset) for m, meta in zip(stream, written, strict=True)}
    expected = {position[id(p.message)]: p for p in poisons}

    life = fleet.start()
    async with Progress(bridge_settings) as progress:
        await progress.wait_drained(90, alive=life)
    await fleet.terminate(life)

    dlq = (await published(bridge_settings)).dead_letters
    seen: dict[tuple[str, int, int], int] = {}
    for record in dlq:
        headers = {k.removeprefix("x-bridge-"): v.decode() for k, v in record.headers}
        assert all(headers.get(name) for name in HEADERS), headers
        where = (headers["original-topic"], int(headers["original-partition"]), int(headers["original-offset"]))
        seen[where] = seen.get(where, 0) + 1
        poison = expected[where]
        assert headers["reason"] == poison.reason
        assert headers["stage"] == "decode" and headers["error-class"] == "DecodeError"
        assert record.value == poison.message.value  # kept as it came, for a replay
    assert seen == {where: 1 for where in expected}, "each poison exactly once in the DLQ"

    engine = create_engine(bridge_settings.store.url, writer=False)
    try:
        async with engine.connect() as conn:
            processed = {r[0] for r in await conn.execute(select(processed_events.c.event_id))}
            stored = (await conn.execute(select(dead_letters.c.reason_code))).scalars().all()
    finally:
        await engine.dispose()
    assert {event_id_of(m) for m in valid} <= processed, "every valid event processed"
    assert sorted(stored) == sorted(p.reason for p in poisons)

    counters = (await take_snapshot(bridge_settings.store.url)).counters
    outcomes = {
        k.removeprefix("events."): v for k, v in counters.items() if k.startswith("events.") and k != "events.in"
    }
    assert set(outcomes) <= OUTCOMES, outcomes
    assert counters["events.in"] == len(stream) == sum(outcomes.values())
    assert outcomes["dead_lettered"] == len(poisons)
    print(f"\n[fault figures] poison: events={len(stream)} poisons={len(poisons)} outcomes={outcomes}")
