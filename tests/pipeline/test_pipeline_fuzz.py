"""A property of the pipeline: whatever a record holds, it is processed, or dead-lettered with a
reason code; never an exception out of the batch (issue 24).

Hypothesis throws arbitrary bytes, tombstones, contract events mutated field by field, deep
nesting, large values, repeated keys, other text encodings and arbitrary Kafka keys at the real
decoder and the real batch processor on a real SQLite store, in batches that end with a valid
event. For every batch: it returns; every record has an outcome; every dead-lettered record has
its dead letter with a reason code (a contract reason at decode, where none is a bug's); the
valid event is applied.
"""

from __future__ import annotations

import asyncio
import json
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bridge.pipeline.batch import BatchResult
from bridge.pipeline.records import RawRecord
from bridge.settings import TopicNames
from bridge.store.engine import create_engine
from bridge.store.migrate import upgrade
from connectors.common import REASON_CODES
from tests.connectors.examples import event_examples
from tests.fixtures.events import make_event, new_sys_id
from tests.pipeline.harness import Harness

#: the outcomes of an event the flows filter (``FlowContext.filtered``)
FILTERED = ("echo", "no_news", "refused", "stale", "unlinked")
NAMES = sorted(name.removesuffix(".json") for name in event_examples())
TOPICS = TopicNames()
FUZZ = settings(
    max_examples=150,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)

json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False)
    | st.text(max_size=30)
    | st.sampled_from(["", "a" * 32, "2026-11-22 10:15:00", "{account}", "[code]<b>x</b>[/code]", "\x00", "\u202e"]),
    lambda children: st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=8), children, max_size=3),
    max_leaves=8,
)


@st.composite
def mutated_events(draw: st.DrawFn) -> dict[str, Any]:
    """A contract example with a fresh identity, some fields replaced, removed or added."""
    event = make_event(draw(st.sampled_from(NAMES)), sys_id=new_sys_id())
    for _ in range(draw(st.integers(0, 3))):
        target = event if draw(st.booleans()) else event.get("record")
        if not isinstance(target, dict) or not target:
            break
        key = draw(st.sampled_from(sorted(target)) | st.text(max_size=10))
        if draw(st.booleans()):
            target[key] = draw(json_values)
        else:
            target.pop(key, None)
    return event


@st.composite
def record_values(draw: st.DrawFn) -> tuple[bytes | None, bytes | None]:
    """(key, value) of one record."""
    kind = draw(st.sampled_from(["bytes", "tombstone", "mutated", "nested", "large", "repeated", "encoded", "valid"]))
    event = draw(mutated_events()) if kind != "valid" else make_event(draw(st.sampled_from(NAMES)), sys_id=new_sys_id())
    text = json.dumps(event, ensure_ascii=draw(st.booleans()))
    value: bytes | None = text.encode()
    if kind == "bytes":
        value = draw(st.binary(max_size=600))
    elif kind == "tombstone":
        value = None
    elif kind == "nested":
        depth = draw(st.integers(1, 3000))
        opener, closer = draw(st.sampled_from([(b"[", b"]"), (b'{"a":', b"}")]))
        inner = opener * depth + b"1" + closer * depth
        value = (
            value.replace(b'"record": {', b'"record": {"u_deep": ' + inner + b", ", 1) if draw(st.booleans()) else inner
        )
    elif kind == "large":
        size = draw(st.sampled_from([10_000, 300_000, 1_500_000]))
        field = draw(st.sampled_from(["short_description", "sys_id", "event_id", "number"]))
        record = event.get("record")
        found = event.get(field) or (record.get(field) if isinstance(record, dict) else None)
        value = text.replace(json.dumps(found or ""), json.dumps("x" * size), 1).encode()
    elif kind == "repeated":
        key = draw(st.sampled_from(['"sys_id": ', '"record": ', '"table": ', '"number": ']))
        value = text.replace(key, key + json.dumps(draw(json_values)) + ", " + key, 1).encode()
    elif kind == "encoded":
        value = text.encode(
            draw(st.sampled_from(["utf-16", "utf-32", "utf-8-sig", "latin-1", "cp1252"])), errors="replace"
        )
    key_kind = draw(st.sampled_from(["sys_id", "none", "other", "bytes"]))
    sys_id = event.get("sys_id")
    key = {
        "sys_id": sys_id.encode() if isinstance(sys_id, str) else None,
        "none": None,
        "other": new_sys_id().encode(),
        "bytes": draw(st.binary(max_size=40)),
    }[key_kind]
    return key, value


@pytest.fixture(scope="module")
def pipeline() -> Iterator[tuple[asyncio.AbstractEventLoop, Harness]]:
    """One real SQLite store and processor for every example, on a loop of its own."""
    loop = asyncio.new_event_loop()
    with tempfile.TemporaryDirectory() as folder:
        url = f"sqlite+aiosqlite:///{Path(folder) / 'fuzz.db'}"
        loop.run_until_complete(upgrade(url))
        engine = create_engine(url)
        harness = Harness(engine, topics=TOPICS)
        loop.run_until_complete(harness.store.open())
        yield loop, harness
        loop.run_until_complete(harness.store.close())
        loop.run_until_complete(engine.dispose())
    loop.close()


@FUZZ
@given(st.lists(record_values(), min_size=1, max_size=4), st.data())
def test_every_record_is_processed_or_dead_lettered_with_a_reason(
    pipeline: tuple[asyncio.AbstractEventLoop, Harness],
    records: list[tuple[bytes | None, bytes | None]],
    data: st.DataObject,
) -> None:
    loop, harness = pipeline
    valid = make_event("csm-case-action-create-work-order", sys_id=new_sys_id())
    raws = []
    for key, value in records:
        harness.offset += 1
        topic = data.draw(st.sampled_from(sorted(TOPICS.events().values())))
        raws.append(RawRecord(topic, 0, harness.offset, key, value))
    raws.append(harness.raw(valid))

    result: BatchResult = loop.run_until_complete(harness.processor.process(raws))

    assert len(result.events) == len(raws) and result.outcomes["in"] == len(raws)
    letters = {
        int(row["headers"]["x-bridge-original-offset"]): row["headers"]
        for row in result.outbox
        if row["kind"] == "dead_letter"
    }
    for raw, (event, outcome) in zip(raws, result.events, strict=True):
        # processed (applied, a duplicate, or filtered: stale, echo, unlinked, …) or dead-lettered
        assert outcome in ("applied", "duplicate", "dead_lettered", *FILTERED), outcome
        if outcome == "dead_lettered":
            headers = letters[raw.offset]
            assert headers["x-bridge-reason"], "a reason code"
            if headers["x-bridge-stage"] == "decode":
                assert headers["x-bridge-reason"] in REASON_CODES, "a contract reason, no bug"
        else:
            assert event is not None and (raw.key is None or raw.key == event.sys_id.encode())
    assert result.events[-1][1] == "applied"
