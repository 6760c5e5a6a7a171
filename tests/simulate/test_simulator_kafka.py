"""The simulated systems on a real Kafka broker: events published, commands answered."""

from __future__ import annotations

import asyncio
import json
import uuid
from pathlib import Path
from typing import Any

import pytest
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer

from bridge.kafka.clients import aiokafka_client_kwargs
from bridge.settings import Settings
from bridgedev.simulate import RunOptions, Simulator, run_simulation, simulation_stream

pytestmark = pytest.mark.kafka


async def _read(settings: Settings, topic: str, until: Any, timeout: float = 30.0) -> list[dict[str, Any]]:
    """Events on ``topic`` from the beginning, until ``until(events)`` holds (or the timeout)."""
    consumer = AIOKafkaConsumer(
        topic, **aiokafka_client_kwargs(settings.kafka), auto_offset_reset="earliest", enable_auto_commit=False
    )
    await consumer.start()
    events: list[dict[str, Any]] = []
    try:
        async with asyncio.timeout(timeout):
            while not until(events):
                for records in (await consumer.getmany(timeout_ms=200)).values():
                    events.extend(json.loads(r.value) for r in records)
    finally:
        await consumer.stop()
    return events


async def _answers_to(settings: Settings, command_id: str) -> list[dict[str, Any]]:
    """The FSM events caused by one command, once at least one has arrived."""

    def caused(event: dict[str, Any]) -> bool:
        return event["caused_by_command"] == command_id

    events = await _read(settings, settings.topics.fsm_events, lambda seen: any(map(caused, seen)))
    return [event for event in events if caused(event)]


async def _send_command(producer: AIOKafkaProducer, topic: str, command: dict[str, Any]) -> None:
    key = (command["sys_id"] or command["correlation_id"]).encode()
    await producer.send_and_wait(topic, json.dumps(command).encode(), key=key)


async def test_workload_is_published_and_fsm_commands_are_answered(bridge_settings: Settings) -> None:
    topics = bridge_settings.topics
    async with Simulator(bridge_settings, seed=41, group_id=f"sim-{uuid.uuid4().hex[:8]}") as simulator:
        world = simulator.world
        messages = list(simulation_stream(41, size="tiny", mix="clean", count=40, world=world))
        assert await simulator.publish(messages) == len(messages)
        csm_sent = sum(1 for m in messages if m.source == "csm")
        csm_events = await _read(bridge_settings, topics.csm_events, lambda e: len(e) >= csm_sent)
        # partitions interleave; within one record (one key) the order is kept
        assert sorted(e["event_id"] for e in csm_events) == sorted(
            m.event["event_id"] for m in messages if m.source == "csm" and m.event
        )

        case = world.index.cases[0]
        insert = {
            "command_id": str(uuid.uuid4()),
            "target": "fsm",
            "table": "wm_order",
            "operation": "insert",
            "sys_id": "",
            "correlation_id": f"case:{case}:wo:1",
            "fields": {"initiated_from": case, "short_description": "Printer jams"},
            "journal": [],
            "caused_by": None,
        }
        producer = AIOKafkaProducer(**aiokafka_client_kwargs(bridge_settings.kafka))
        await producer.start()
        try:
            await _send_command(producer, topics.fsm_commands, insert)
            await _send_command(producer, topics.fsm_commands, insert)  # redelivered: no second effect
            await _send_command(
                producer,
                topics.fsm_commands,
                {
                    **insert,
                    "command_id": str(uuid.uuid4()),
                    "operation": "update",
                    "sys_id": uuid.uuid4().hex,
                    "correlation_id": "",
                },
            )  # unknown record: no answer
            created = await _answers_to(bridge_settings, insert["command_id"])
            assert len(created) == 1 and created[0]["operation"] == "insert"
            assert created[0]["record"]["correlation_id"] == insert["correlation_id"]

            update = {
                **insert,
                "command_id": str(uuid.uuid4()),
                "operation": "update",
                "sys_id": created[0]["sys_id"],
                "correlation_id": "",
                "fields": {"state": "assigned"},
                "journal": [{"element": "work_notes", "value": "Dispatched"}],
            }
            await _send_command(producer, topics.fsm_commands, update)
            updated = await _answers_to(bridge_settings, update["command_id"])
        finally:
            await producer.stop()
        assert updated[0]["changed_fields"] == ["state"] and updated[0]["sys_mod_count"] == "1"
        async with asyncio.timeout(10):  # the unknown-record command may sit on another partition
            while len(simulator.recorder) < 4:
                await asyncio.sleep(0.05)
        assert simulator.recorder.outcomes == {"created": 1, "duplicate": 1, "unknown_record": 1, "updated": 1}


async def test_run_simulation_reports_what_it_sent(bridge_settings: Settings, tmp_path: Path) -> None:
    options = RunOptions(
        seed=42,
        size="tiny",
        count=200,
        rate=2000,
        linger=0.2,
        record_path=tmp_path / "received.jsonl",
        group_id=f"sim-{uuid.uuid4().hex[:8]}",
    )
    summary = await run_simulation(options, bridge_settings)
    result = summary.to_dict()
    assert result["sent"]["population"] > 0
    assert result["sent_total"] == result["sent"]["population"] + 200
    assert result["commands"]["commands"] == 0  # no bridge running: nothing to answer
