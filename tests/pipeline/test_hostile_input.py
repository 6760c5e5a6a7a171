"""Input no system should send, and what becomes of it (issue 24, "not tried yet").

- Template syntax, ServiceNow ``[code]`` tags (the journal renders what they hold as HTML) and
  control characters in a technician's work notes and comments reach the case's work notes
  escaped, as mappings/README.md promises: placeholders and braces written as they are (no
  second pass), ``[code]`` neutralised by a zero-width space, control and format characters
  shown as ``\\uXXXX``, CR LF as LF. In memory and through the real broker and application.
- A case with a 1 MB ``short_description`` is applied; its work order insert (3 MB with the
  description) is more than the producer sends: it is set aside at once (logged, counted, left
  unsent), not retried as an outage, and the stream goes on.
- A 10 MB ``sys_id`` is dead-lettered at decode (``invalid_sys_id``); the dead letter, keyed by
  its id (no column holds such a key), goes out cut down.
"""

from __future__ import annotations

from typing import Any

import pytest
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from bridge.pipeline.records import RawRecord
from bridge.runtime import DeliveryRuntime
from bridge.settings import Settings
from bridge.store.schema import outbox, processed_events
from tests.fixtures.events import encode, make_event, new_sys_id
from tests.pipeline.deliveries import ISOLATE_AFTER_TWO, redeliver
from tests.pipeline.harness import Harness
from tests.pipeline.kafka_relay import published_ids, relay_to
from tests.pipeline.test_task_notes import CASE_ID, case_notes, linked_task, task

ZWSP = "\u200b"
HOSTILE = (
    "{account} {{7*7}} {case_number} }} {\n"
    "[code]<script>alert(document.cookie)</script>[/code] [ CODE ] [/Code]\r\n"
    "bell\x07 escape\x1b[31m rtl\u202eoverride zwsp[\u200bcode] tab\tend"
)
ESCAPED = (
    "{account} {{7*7}} {case_number} }} {\n"
    f"[{ZWSP}code]<script>alert(document.cookie)</script>[{ZWSP}/code] [{ZWSP} CODE ] "
    f"[{ZWSP}/Code]\n"
    "bell\\u0007 escape\\u001b[31m rtl\\u202eoverride zwsp[\\u200bcode] tab\tend"
)


async def test_hostile_text_in_notes_reaches_the_case_escaped(h: Harness) -> None:
    await linked_task(h)
    author = "[code]{case_number}\x1b"
    commands = await h.run(task(1, notes=(("work_notes", author, HOSTILE), ("comments", author, HOSTILE))))
    shown_author = f"[{ZWSP}code]{{case_number}}\\u001b"
    assert case_notes(commands) == [
        (CASE_ID, "work_notes", f"Work order task WOT0010001 (WO0010001), note from {shown_author}:\n{ESCAPED}"),
        (CASE_ID, "work_notes", f"Work order task WOT0010001 (WO0010001), comment from {shown_author}:\n{ESCAPED}"),
    ]


def _runtime(harness: Harness, producer: AIOKafkaProducer) -> DeliveryRuntime:
    return DeliveryRuntime(harness.processor, relay_to(harness.store, producer), ISOLATE_AFTER_TWO)


pytestmark = pytest.mark.kafka


async def test_a_1_mb_short_description_is_applied_and_its_oversized_command_set_aside(
    store_engine: AsyncEngine, producer: AIOKafkaProducer, kafka_bootstrap: str, bridge_settings: Settings
) -> None:
    harness = Harness(store_engine, topics=bridge_settings.topics)
    await harness.store.open()
    runtime = _runtime(harness, producer)
    huge = new_sys_id()
    text: dict[str, Any] = {"short_description": "s" * 1_000_000, "description": "d" * 2_000_000}
    normal = make_event("csm-case-action-create-work-order", sys_id=new_sys_id())
    raws = [
        harness.raw(make_event("csm-case-insert", sys_id=huge, record=text)),
        harness.raw(make_event("csm-case-action-create-work-order", sys_id=huge, record=text)),
        harness.raw(normal),
    ]

    assert await redeliver(runtime, raws, times=1) == ["ack"]

    assert runtime.stats.transient_errors == runtime.stats.rewinds == 0, "no retry, no rewind"
    [refused] = runtime.relay.refused
    async with store_engine.connect() as conn:
        assert len(list((await conn.execute(select(processed_events.c.event_id))).scalars())) == 3
        commands = dict(
            (
                await conn.execute(select(outbox.c.message_id, outbox.c.cause_sys_id).where(outbox.c.kind == "command"))
            ).all()
        )
    assert commands[refused] == huge and runtime.relay.refused[refused] == "MessageSizeTooLargeError"
    fsm_commands = await published_ids(kafka_bootstrap, bridge_settings.topics.fsm_commands)
    assert fsm_commands == [c for c in commands if c != refused], "the other case's, sent"


async def test_a_10_mb_sys_id_is_dead_lettered_and_goes_out_cut_down(
    store_engine: AsyncEngine, producer: AIOKafkaProducer, kafka_bootstrap: str, bridge_settings: Settings
) -> None:
    harness = Harness(store_engine, topics=bridge_settings.topics)
    await harness.store.open()
    runtime = _runtime(harness, producer)
    sys_id = "a" * 10_000_000
    value = encode(make_event("csm-case-insert", sys_id=sys_id))
    raws = [RawRecord(bridge_settings.topics.csm_events, 0, 7, sys_id.encode(), value)]

    assert await redeliver(runtime, raws, times=1) == ["ack"]

    [letter] = await harness.dead_letters()
    assert (letter["reason_code"], letter["payload"]) == ("invalid_sys_id", value)
    consumer = AIOKafkaConsumer(
        bridge_settings.topics.dead_letters,
        bootstrap_servers=kafka_bootstrap,
        group_id=None,
        auto_offset_reset="earliest",
        enable_auto_commit=False,
    )
    await consumer.start()
    try:
        fetched = await consumer.getmany(timeout_ms=3000)
    finally:
        await consumer.stop()
    [message] = [record for part in fetched.values() for record in part]
    headers = {k: v.decode() for k, v in message.headers}
    assert message.key == letter["id"].encode()
    assert (headers["x-bridge-truncated"], headers["x-bridge-original-size"]) == ("true", str(len(value)))
    assert message.value == value[: len(message.value)] and len(message.value) < 100_000
