"""`bridge replay` against a real broker and store: by offset and by time, dry run emitting
nothing, execute emitting only what is new, forced reprocessing needing a reason; a record the
store refuses dead-lettered and not stopping the replay; an outage stopping it with a clear
error."""

from __future__ import annotations

import asyncio
from datetime import datetime, timezone

import pytest

from bridge.settings import Settings
from tests.e2e.kafka_io import produce
from tests.fixtures.events import make_event, new_sys_id
from tests.fixtures.kafka import read_to_end
from tests.ops.helpers import acli, acli_json, cli

pytestmark = pytest.mark.kafka


def _work_order_requests(n: int) -> list[dict]:
    return [make_event("csm-case-action-create-work-order", sys_id=new_sys_id()) for _ in range(n)]


async def _fsm_commands(settings: Settings) -> list:
    """Every command on FSM's topic now. The replay command has returned, and it returns only
    once its producer has flushed: what it published is all there, nothing is waited for."""
    return await read_to_end(settings, settings.topics.fsm_commands)


async def test_dry_run_emits_nothing_and_execute_emits_only_what_is_new(
    bridge_settings: Settings, bridge_env: dict[str, str]
) -> None:
    topic = bridge_settings.topics.csm_events
    await produce(bridge_settings, _work_order_requests(6))
    from bridge.store.migrate import upgrade

    await upgrade(bridge_settings.store.url)

    dry = await acli_json(bridge_env, "replay", "--topic", topic, "--from-offset", "0")
    assert dry["dry_run"] and dry["read"] == 6 and dry["applied"] == 6
    assert dry["commands"] == 6 and dry["emitted"] == 0
    assert await _fsm_commands(bridge_settings) == []  # nothing left the bridge
    again = await acli_json(bridge_env, "replay", "--topic", topic, "--from-offset", "0")
    assert again["applied"] == 6  # and nothing was written: the same events are still new

    first = await acli_json(bridge_env, "replay", "--topic", topic, "--from-offset", "0", "--execute")
    assert (first["applied"], first["emitted"]) == (6, 6)
    emitted = await _fsm_commands(bridge_settings)
    assert len(emitted) == 6

    late = _work_order_requests(1)
    await produce(bridge_settings, late)
    second = await acli_json(bridge_env, "replay", "--topic", topic, "--from-offset", "0", "--execute")
    assert second["read"] == 7 and second["skipped_duplicate"] == 6 and second["applied"] == 1
    assert second["emitted"] == 1
    assert second["command_list"][0]["cause_event_id"] == late[0]["event_id"]
    total = await _fsm_commands(bridge_settings)
    assert len(total) == 7  # exactly one more command, for the new event
    message_ids = {dict(m.headers)["x-bridge-message-id"].decode() for m in total}
    assert message_ids == {dict(m.headers)["x-bridge-message-id"].decode() for m in emitted} | {
        second["command_list"][0]["message_id"]
    }

    refused = await acli(bridge_env, "replay", "--topic", topic, "--from-offset", "0", "--force-reprocess", check=False)
    assert refused.returncode != 0 and "--reason" in refused.stderr
    forced = await acli_json(
        bridge_env,
        "replay",
        "--topic",
        topic,
        "--from-offset",
        "0",
        "--force-reprocess",
        "--reason",
        "fsm lost its data",
    )
    assert forced["dry_run"] and forced["applied"] == 7 and forced["commands"] == 7
    assert {c["message_id"] for c in forced["command_list"]}.isdisjoint(
        {c["message_id"] for c in second["command_list"]}
    )  # new ids: the systems see new commands


async def test_replay_by_time_by_partition_and_by_key(bridge_settings: Settings, bridge_env: dict[str, str]) -> None:
    from bridge.store.migrate import upgrade

    await upgrade(bridge_settings.store.url)
    topic = bridge_settings.topics.csm_events
    early = _work_order_requests(4)
    await produce(bridge_settings, early)
    await asyncio.sleep(1.2)
    since = datetime.now(timezone.utc).isoformat()
    await asyncio.sleep(0.2)
    later = _work_order_requests(3)
    await produce(bridge_settings, later)

    by_time = await acli_json(bridge_env, "replay", "--topic", topic, "--since", since)
    assert by_time["read"] == 3
    assert {c["cause_event_id"] for c in by_time["command_list"]} == {e["event_id"] for e in later}
    until = await acli_json(bridge_env, "replay", "--topic", topic, "--since", "1h", "--until", since)
    assert until["read"] == 4

    key = later[1]["sys_id"]
    by_key = await acli_json(bridge_env, "replay", "--topic", topic, "--from-offset", "0", "--key", key)
    assert by_key["read"] == 1 and by_key["command_list"][0]["cause_event_id"] == later[1]["event_id"]
    per_partition = [
        (
            await acli_json(
                bridge_env, "replay", "--topic", topic, "--from-offset", "0", "--partition", str(r["partition"])
            )
        )["read"]
        for r in by_key["ranges"]
    ]
    assert len(per_partition) == len(by_key["ranges"]) > 1 and sum(per_partition) == 7

    text = cli(bridge_env, "replay", "--topic", topic, "--since", since).stdout  # real entry point
    assert "dry run" in text and "skipped as duplicate" in text


async def test_a_record_the_store_refuses_is_dead_lettered_and_the_replay_goes_on(
    bridge_settings: Settings, bridge_env: dict[str, str]
) -> None:
    """As in the bridge's own runtime: the failing batch is taken apart, the refused record is
    dead-lettered (stage ``batch``), and the others are applied."""
    import sqlite3

    from sqlalchemy.engine import make_url

    from bridge.store.migrate import upgrade

    await upgrade(bridge_settings.store.url)
    store = sqlite3.connect(make_url(bridge_settings.store.url).database)
    store.execute(
        "CREATE TRIGGER records_not_refused BEFORE INSERT ON records "
        "WHEN NEW.number LIKE 'REFUSED%' BEGIN SELECT RAISE(ABORT, 'refused'); END"
    )
    store.commit()
    events = [
        make_event("csm-case-insert", sys_id=new_sys_id(), record={"number": number})
        for number in ("CS0000001", "REFUSED2", "CS0000003")
    ]
    await produce(bridge_settings, events)
    topic = bridge_settings.topics.csm_events

    dry = await acli_json(bridge_env, "replay", "--topic", topic, "--from-offset", "0")
    assert store.execute("SELECT count(*) FROM dead_letters").fetchone() == (0,), "a dry run"
    done = await acli_json(bridge_env, "replay", "--topic", topic, "--from-offset", "0", "--execute")

    assert (dry["read"], dry["applied"], dry["dead_lettered"]) == (3, 2, 1)
    assert (done["read"], done["applied"], done["dead_lettered"]) == (3, 2, 1)
    letters = store.execute("SELECT event_id, stage, reason_code FROM dead_letters").fetchall()
    processed = {row[0] for row in store.execute("SELECT event_id FROM processed_events")}
    store.close()
    assert letters == [(events[1]["event_id"], "batch", "store_rejected")]
    assert processed == {events[0]["event_id"], events[2]["event_id"]}


async def test_a_store_outage_stops_the_replay_with_a_clear_error_and_a_rerun_goes_on(
    bridge_settings: Settings, bridge_env: dict[str, str]
) -> None:
    import sqlite3

    from sqlalchemy.engine import make_url

    from bridge.store.migrate import upgrade

    await upgrade(bridge_settings.store.url)
    await produce(bridge_settings, _work_order_requests(3))
    topic = bridge_settings.topics.csm_events
    env = {**bridge_env, "BRIDGE_STORE__BUSY_TIMEOUT_MS": "200"}
    blocker = sqlite3.connect(make_url(bridge_settings.store.url).database, isolation_level=None)
    blocker.execute("BEGIN IMMEDIATE")  # another writer holds the store
    try:
        stopped = await acli(env, "replay", "--topic", topic, "--from-offset", "0", "--execute", check=False)
    finally:
        blocker.execute("ROLLBACK")
        blocker.close()
    rerun = await acli_json(env, "replay", "--topic", topic, "--from-offset", "0", "--execute")

    assert stopped.returncode != 0 and "Traceback" not in stopped.stderr + stopped.stdout
    assert "stopped by OperationalError" in stopped.stderr
    assert "run the same command again" in stopped.stderr
    assert (rerun["applied"], rerun["emitted"]) == (3, 3)


async def test_execute_publishes_each_dead_letter_once_whatever_the_reruns(
    bridge_settings: Settings, bridge_env: dict[str, str]
) -> None:
    """Bad input of every kind the door refuses, replayed with --execute three times: each
    dead letter is on the dead-letter topic once (a known one is not sent again)."""
    import json

    from aiokafka import AIOKafkaProducer

    from bridge.store.migrate import upgrade

    await upgrade(bridge_settings.store.url)
    topic = bridge_settings.topics.csm_events
    valid, mismatched, repeated = _work_order_requests(3)
    repeated_body = (
        json.dumps(repeated).encode().replace(b'"sys_id":', b'"sys_id": "' + new_sys_id().encode() + b'", "sys_id":', 1)
    )
    producer = AIOKafkaProducer(bootstrap_servers=bridge_settings.kafka.bootstrap_servers)
    await producer.start()
    try:
        for key, value in [
            (b"k", b"{not json"),
            (valid["sys_id"].encode(), None),
            (new_sys_id().encode(), json.dumps(mismatched).encode()),
            (repeated["sys_id"].encode(), repeated_body),
            (valid["sys_id"].encode(), json.dumps(valid).encode()),
        ]:
            await producer.send_and_wait(topic, value, key=key)
    finally:
        await producer.stop()

    runs = [
        await acli_json(bridge_env, "replay", "--topic", topic, "--from-offset", "0", "--execute") for _ in range(3)
    ]

    assert [(r["read"], r["applied"], r["dead_lettered"]) for r in runs] == [(5, 1, 4)] + [(5, 0, 4)] * 2
    letters = await read_to_end(bridge_settings, bridge_settings.topics.dead_letters)
    reasons = sorted(dict(m.headers)["x-bridge-reason"].decode() for m in letters)
    assert reasons == ["duplicate_key", "invalid_json", "key_mismatch", "not_an_object"]
