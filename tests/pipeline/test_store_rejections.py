"""What the store refuses for the data it carries never stalls the stream.

Before, any database error counted as an outage, to be waited out: on PostgreSQL one event with
a NUL character, an event id or record number longer than its column, or a sys_mod_count beyond
a 32-bit integer had its batch retried for ever, and nothing behind it moved. Now values no
column can hold are refused by the decoder with a reason, on both stores alike; and anything
else the store refuses for what a record carries (here a constraint the bridge knows nothing of)
fails the batch like a bug: it is rewound, taken apart, and the refused record alone is
dead-lettered with reason ``store_rejected``. A dead letter itself never carries what the store
cannot hold (a key beyond its column, a foreign replay-count header, a NUL in an error's text):
a record that cannot even be dead-lettered would stall the stream the same way. Real SQLite,
real PostgreSQL, real broker for the outbox.
"""

from __future__ import annotations

import dataclasses
import sqlite3
from typing import Any

import pytest
from aiokafka import AIOKafkaProducer
from sqlalchemy import select, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncEngine

from bridge.pipeline.errors import is_transient, store_rejection
from bridge.runtime import DeliveryRuntime
from bridge.settings import Settings
from bridge.store.engine import create_engine
from bridge.store.schema import processed_events
from tests.fixtures.events import make_event, new_sys_id
from tests.pipeline.deliveries import ISOLATE_AFTER_TWO, redeliver
from tests.pipeline.harness import Harness
from tests.pipeline.kafka_relay import published_ids, relay_to


def _case(**record: Any) -> dict[str, Any]:
    return make_event("csm-case-insert", sys_id=new_sys_id(), record=record or None)


async def _processed(engine: AsyncEngine) -> set[str]:
    async with engine.connect() as conn:
        return set((await conn.execute(select(processed_events.c.event_id))).scalars())


async def test_values_no_column_can_hold_are_dead_lettered_at_decode_and_the_rest_goes_on(
    any_store: AsyncEngine,
) -> None:
    harness = Harness(any_store)
    good = [_case(), _case()]
    with_nul = _case(short_description="printer\x00jam")
    long_id = _case()
    long_id["event_id"] = "e" * 65
    long_number = _case(number="CS" + "0" * 39)
    huge_count = _case()
    huge_count["sys_mod_count"] = str(2**31)

    result = await harness.feed(good[0], with_nul, long_id, long_number, huge_count, good[1])

    assert result.outcomes["dead_lettered"] == 4
    assert await _processed(any_store) == {e["event_id"] for e in good}
    letters = sorted((d["stage"], d["reason_code"], d["detail"]) for d in await harness.dead_letters())
    assert letters == [
        ("decode", "invalid_value", "event_id: expected 1-64 printable characters, no edge spaces"),
        ("decode", "invalid_value", "record.number: expected at most 40 characters"),
        ("decode", "invalid_value", "record.short_description: the NUL character (\\u0000) is not accepted"),
        ("decode", "invalid_value", "sys_mod_count: expected at most 2147483647"),
    ]


@pytest.mark.parametrize("key", [b"k" * 300, b"case\x00key"])
async def test_a_dead_letter_keeps_a_key_no_column_could_hold_out_of_the_store(
    any_store: AsyncEngine, key: bytes
) -> None:
    harness = Harness(any_store)
    raw = dataclasses.replace(harness.raw(b"not json"), key=key)

    result = await harness.processor.process([raw])

    [letter] = await harness.dead_letters()
    [row] = result.outbox
    assert (letter["reason_code"], row["msg_key"]) == ("invalid_json", letter["id"])


def _refuse_numbers_starting_with_refused(dialect: str) -> str:
    """A rule of the store's own that the bridge knows nothing of (an operator's, say)."""
    if dialect == "postgresql":
        return (
            "ALTER TABLE records ADD CONSTRAINT ck_records_not_refused "
            "CHECK (number IS NULL OR number NOT LIKE 'REFUSED%')"
        )
    return (
        "CREATE TRIGGER records_not_refused BEFORE INSERT ON records "
        "WHEN NEW.number LIKE 'REFUSED%' BEGIN SELECT RAISE(ABORT, 'refused'); END"
    )


@pytest.mark.kafka
async def test_a_record_the_store_refuses_is_dead_lettered_alone_instead_of_stalling(
    any_store: AsyncEngine, producer: AIOKafkaProducer, kafka_bootstrap: str, bridge_settings: Settings
) -> None:
    async with any_store.begin() as conn:
        await conn.execute(text(_refuse_numbers_starting_with_refused(any_store.dialect.name)))
    topics = bridge_settings.topics
    harness = Harness(any_store, topics=topics)
    events = [_case(), _case(), _case(number="REFUSED1"), _case()]
    culprit = events[2]
    runtime = DeliveryRuntime(harness.processor, relay_to(any_store, producer), ISOLATE_AFTER_TWO)
    raws = [harness.raw(event) for event in events]

    assert await redeliver(runtime, raws) == ["rewound", "rewound", "ack"]
    assert runtime.stats.transient_errors == 0, "a refusal is not an outage to wait out"
    assert await _processed(any_store) == {e["event_id"] for e in events} - {culprit["event_id"]}
    [letter] = await harness.dead_letters()
    postgres = any_store.dialect.name == "postgresql"
    code = "SQLSTATE 23514" if postgres else "SQLITE_CONSTRAINT_TRIGGER"
    assert (letter["event_id"], letter["stage"], letter["reason_code"], letter["detail"]) == (
        culprit["event_id"],
        "batch",
        "store_rejected",
        f"the store refused this record's writes ({code})",
    )
    assert await published_ids(kafka_bootstrap, topics.dead_letters) == ["dlq-" + letter["id"]]


async def _error_of(engine: AsyncEngine, statement: str) -> DBAPIError:
    with pytest.raises(DBAPIError) as caught:
        async with engine.begin() as conn:
            await conn.execute(text(statement))
    return caught.value


async def test_refusals_are_told_from_races_and_outages_by_the_store_s_own_codes(
    any_store: AsyncEngine, any_store_url: str
) -> None:
    async with any_store.begin() as conn:
        await conn.execute(text("INSERT INTO counters (name, value) VALUES ('taken', 1)"))
    missing = await _error_of(any_store, "INSERT INTO counters (name, value) VALUES ('x', NULL)")
    race = await _error_of(any_store, "INSERT INTO counters (name, value) VALUES ('taken', 1)")

    assert is_transient(missing) is False and is_transient(race) is True
    if any_store.dialect.name == "postgresql":  # SQLite stores a value longer than its column
        too_long = await _error_of(any_store, f"INSERT INTO counters (name, value) VALUES ('{'x' * 97}', 1)")
        assert (store_rejection(too_long), store_rejection(missing)) == ("SQLSTATE 22001", "SQLSTATE 23502")
        gone = create_engine(make_url(any_store_url).set(port=1).render_as_string(False))
        try:
            with pytest.raises(Exception) as outage:
                async with gone.connect() as conn:
                    await conn.execute(text("SELECT 1"))
        finally:
            await gone.dispose()
    else:
        assert store_rejection(missing) == "SQLITE_CONSTRAINT_NOTNULL"
        blocker = sqlite3.connect(make_url(any_store_url).database, isolation_level=None)
        blocker.execute("BEGIN IMMEDIATE")  # another writer holds the lock
        try:
            with pytest.raises(Exception) as outage:
                async with any_store.begin() as conn:
                    await conn.execute(text("DELETE FROM counters"))
        finally:
            blocker.execute("ROLLBACK")
            blocker.close()
    assert store_rejection(outage.value) is None and is_transient(outage.value) is True


@pytest.mark.parametrize(("header", "kept"), [(b"2", 2), (b"abc", 0), (b"9" * 12, 0), (b"-1", 0)])
async def test_a_replay_count_header_that_is_no_count_does_not_block_the_dead_letter(
    any_store: AsyncEngine, header: bytes, kept: int
) -> None:
    harness = Harness(any_store)
    raw = dataclasses.replace(harness.raw(b"not json"), headers=(("x-bridge-replay-count", header),))

    result = await harness.processor.process([raw])

    [letter] = await harness.dead_letters()
    assert result.outcomes["dead_lettered"] == 1 and letter["replay_count"] == kept


async def test_an_error_text_with_a_nul_character_does_not_block_the_dead_letter(any_store: AsyncEngine) -> None:
    harness = Harness(any_store)

    await harness.processor.dead_letter_alone(harness.raw(b"not json"), RuntimeError("a\x00b"))

    [letter] = await harness.dead_letters()
    assert (letter["reason_code"], letter["detail"]) == ("internal_error", "RuntimeError: a\\x00b")
