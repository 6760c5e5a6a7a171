"""No single record may stop the stream (issue 24): whatever one record makes fail, that record is
dead-lettered with a reason code at its batch's first delivery, and the rest goes on.

The runtime here is the bridge's (real processor, SQLite store, relay to a real broker); each
batch is handed over once, and must be acknowledged, never rewound or retried.
"""

from __future__ import annotations

import json
from typing import Any

import msgspec
import pytest
from aiokafka import AIOKafkaProducer
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from bridge.pipeline import batch
from bridge.pipeline.records import RawRecord
from bridge.runtime import DeliveryRuntime
from bridge.settings import Settings
from bridge.store.schema import processed_events
from tests.fixtures.events import encode, make_event, new_sys_id
from tests.pipeline.deliveries import ISOLATE_AFTER_TWO, redeliver
from tests.pipeline.harness import Harness
from tests.pipeline.kafka_relay import published_ids, relay_to

pytestmark = pytest.mark.kafka


def _request() -> dict[str, Any]:
    return make_event("csm-case-action-create-work-order", sys_id=new_sys_id())


def _runtime(harness: Harness, producer: AIOKafkaProducer) -> DeliveryRuntime:
    return DeliveryRuntime(harness.processor, relay_to(harness.store, producer), ISOLATE_AFTER_TWO)


async def _processed(engine: AsyncEngine) -> set[str]:
    async with engine.connect() as conn:
        return set((await conn.execute(select(processed_events.c.event_id))).scalars())


async def _deep_stack(depth: int, runtime: DeliveryRuntime, raws: list[RawRecord]) -> list[str]:
    """Deliver from ``depth`` frames down: the running bridge's stack is deeper than a test's,
    and the parsers' own recursion limit counts from wherever the stack already is."""
    if depth:
        return await _deep_stack(depth - 1, runtime, raws)
    return await redeliver(runtime, raws, times=1)


@pytest.mark.parametrize("stack", [0, 200])
async def test_deep_nesting_is_dead_lettered_and_the_next_event_applied(
    stack: int, store_engine: AsyncEngine, producer: AIOKafkaProducer, kafka_bootstrap: str, bridge_settings: Settings
) -> None:
    harness = Harness(store_engine, topics=bridge_settings.topics)
    await harness.store.open()
    runtime = _runtime(harness, producer)
    deep_record = _request()
    nested_record = encode(deep_record).replace(
        b'"record": {', b'"record": {"u_extra": ' + b'{"a":' * 900 + b"1" + b"}" * 900 + b", ", 1
    )
    valid = _request()
    raws = [
        harness.raw(b'{"a":' * 1000 + b"1" + b"}" * 1000),  # the issue's 6 kB message
        harness.raw(b"[" * 100_000 + b"]" * 100_000),
        RawRecord(bridge_settings.topics.csm_events, 0, 90, deep_record["sys_id"].encode(), nested_record),
        harness.raw(valid),
    ]

    assert await _deep_stack(stack, runtime, raws) == ["ack"]

    assert await _processed(store_engine) == {valid["event_id"]}
    letters = await harness.dead_letters()
    assert sorted((d["offset"], d["stage"], d["reason_code"]) for d in letters) == sorted(
        (raw.offset, "decode", "invalid_json") for raw in raws[:3]
    )
    assert sorted(await published_ids(kafka_bootstrap, bridge_settings.topics.dead_letters)) == sorted(
        "dlq-" + d["id"] for d in letters
    )
    assert runtime.stats.failures == runtime.stats.rewinds == runtime.stats.transient_errors == 0


@pytest.mark.parametrize(
    "error",
    [
        RecursionError("maximum recursion depth exceeded"),
        KeyError("sys_id"),
        TypeError("a bug"),
        MemoryError(),
        msgspec.ValidationError("Expected `str`"),
        UnicodeDecodeError("utf-8", b"\xff", 0, 1, "invalid start byte"),
        AssertionError(),
        ValueError("x"),
    ],
)
async def test_any_exception_the_decoder_raises_costs_its_record_only(
    error: Exception,
    store_engine: AsyncEngine,
    producer: AIOKafkaProducer,
    kafka_bootstrap: str,
    bridge_settings: Settings,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A decoder bug that one record's bytes trigger: that record is dead-lettered (stage
    ``decode``, ``internal_error``), in the batch and when a batch is taken apart, which decodes
    it again: the dead-letter path never raises what the decoder raised."""
    harness = Harness(store_engine, topics=bridge_settings.topics)
    await harness.store.open()
    runtime = _runtime(harness, producer)
    before, culprit, after = _request(), _request(), _request()
    real_decode = batch.decode_event

    def decode(raw: bytes | None, **kwargs: Any) -> Any:
        if raw is not None and culprit["event_id"].encode() in raw:
            raise error
        return real_decode(raw, **kwargs)

    monkeypatch.setattr(batch, "decode_event", decode)
    raws = [harness.raw(before), harness.raw(culprit), harness.raw(after)]

    assert await redeliver(runtime, raws, times=1) == ["ack"]
    alone = await harness.processor.dead_letter_alone(raws[1], RuntimeError("a flush bug"))

    assert await _processed(store_engine) == {before["event_id"], after["event_id"]}
    [letter] = await harness.dead_letters()
    assert (letter["offset"], letter["stage"], letter["reason_code"], letter["error_class"]) == (
        raws[1].offset,
        "decode",
        "internal_error",
        type(error).__name__,
    )
    assert await published_ids(kafka_bootstrap, bridge_settings.topics.dead_letters) == ["dlq-" + letter["id"]]
    assert alone.outcomes == {"in": 1, "dead_lettered": 1} and alone.outbox == [], "known already: not published again"
    assert runtime.stats.failures == runtime.stats.rewinds == 0


async def test_contract_checks_at_the_door(
    store_engine: AsyncEngine, producer: AIOKafkaProducer, kafka_bootstrap: str, bridge_settings: Settings
) -> None:
    """A key that is not the body's sys_id, a repeated key, a tombstone: each dead-lettered
    with its reason; an event without a key, and events keyed by their sys_id, are applied."""
    harness = Harness(store_engine, topics=bridge_settings.topics)
    await harness.store.open()
    runtime = _runtime(harness, producer)
    topic = bridge_settings.topics.csm_events
    mismatched, repeated, keyless, keyed = (_request() for _ in range(4))
    other = new_sys_id()
    repeated_body = encode(repeated).replace(b'"sys_id": "', b'"sys_id": "' + other.encode() + b'", "sys_id": "', 1)
    assert json.loads(repeated_body)["sys_id"] == repeated["sys_id"]  # the last one counts
    raws = [
        RawRecord(topic, 0, 1, other.encode(), encode(mismatched)),
        RawRecord(topic, 0, 2, repeated["sys_id"].encode(), repeated_body),
        RawRecord(topic, 0, 3, keyed["sys_id"].encode(), None),
        RawRecord(topic, 0, 4, None, encode(keyless)),
        RawRecord(topic, 0, 5, keyed["sys_id"].encode(), encode(keyed)),
    ]

    assert await redeliver(runtime, raws, times=1) == ["ack"]

    assert await _processed(store_engine) == {keyless["event_id"], keyed["event_id"]}
    letters = {d["offset"]: d for d in await harness.dead_letters()}
    assert {o: (d["stage"], d["reason_code"]) for o, d in letters.items()} == {
        1: ("decode", "key_mismatch"),
        2: ("decode", "duplicate_key"),
        3: ("decode", "not_an_object"),
    }
    assert (letters[1]["event_id"], letters[1]["sys_id"]) == (mismatched["event_id"], mismatched["sys_id"]), (
        "the mismatched event is named"
    )
    assert len(await published_ids(kafka_bootstrap, bridge_settings.topics.dead_letters)) == 3


async def test_the_issues_message_on_the_running_bridge(kafka_harness: Any) -> None:
    """The issue's reproduction, on the bridge application consuming the real topic: the
    1,000-level message, then a valid event; both are handled, the stream goes on."""
    valid = _request()

    result = await kafka_harness.feed(b'{"a":' * 1000 + b"1" + b"}" * 1000, valid)

    assert result.outcomes == {"in": 2, "dead_lettered": 1, "applied": 1}
    [letter] = [row for row in result.outbox if row["kind"] == "dead_letter"]
    assert letter["headers"]["x-bridge-reason"] == "invalid_json"
    commands = kafka_harness.commands(result)
    assert {c["caused_by"]["event_id"] for c in commands} == {valid["event_id"]}
    assert ("fsm", "wm_order", "insert") in {(c["target"], c["table"], c["operation"]) for c in commands}
