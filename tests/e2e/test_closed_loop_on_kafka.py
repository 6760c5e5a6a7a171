"""The closed loop on a real broker: the simulated CSM, FSM and ITSM answer the bridge's commands
while it runs, FSM's technicians then work on the work orders the bridge asked for, and the
bridge reports their news on the cases. Judged by the independent model (``systems_model``):
every press gives exactly one work order with the case's context, and every work-order and task
update gives exactly the case notes the templates define, on exactly the work order's case; the
wire carries the documented keys and headers, each record's commands in the decided order."""

from __future__ import annotations

import asyncio
import json
import signal
import subprocess
from pathlib import Path

import pytest

from bridge.settings import Settings
from bridgedev.simulate import Mix, SimMessage, Simulator, Workload, population_messages
from tests.e2e.kafka_io import start_bridge
from tests.reliability.drive import Progress
from tests.reliability.kafka_tools import committed_offsets, end_offsets, partitions_of, read_to_end
from tests.reliability.oracle import application_order, event_id_of
from tests.reliability.systems_model import answered_live, judge_state
from tests.reliability.wire import WireCommand, decided_order, wire_commands, wire_problems

pytestmark = [pytest.mark.kafka, pytest.mark.timeout(300)]

#: First presses, then (once FSM has the work orders) the technicians' work with a few more
#: presses: nothing that changes a case's context meanwhile.
PRESSES = Mix({"create_work_order": 1}, duplicate_share=0.0, malformed_share=0.0)
WORK = Mix({"create_work_order": 1, "work_order_progress": 6}, duplicate_share=0.0, malformed_share=0.0)
PHASES, CHUNK = ((PRESSES, 150), (WORK, 500)), 50


async def test_work_orders_and_their_news_match_the_model_with_the_systems_answering(
    bridge_settings: Settings, bridge_env: dict[str, str], tmp_path: Path
) -> None:
    settings = bridge_settings
    simulator_group = f"{settings.consumer.group_id}-systems"
    simulator = Simulator(
        settings,
        seed=43,
        bootstrap_servers=settings.kafka.bootstrap_servers,
        topics=settings.topics,
        group_id=simulator_group,
    )
    bridge = start_bridge({**bridge_env, "BRIDGE_CONSUMER__MAX_RECORDS": "100"}, log_path=str(tmp_path / "bridge.log"))
    try:
        async with simulator:
            await simulator.publish(list(population_messages(simulator.world, "small")))
            for mix, count in PHASES:
                workload = Workload(simulator.world, mix)
                for _ in range(count // CHUNK):  # while FSM answers the earlier commands
                    await simulator.publish([workload.next_message() for _ in range(CHUNK)])
                    await asyncio.sleep(0.2)
                await _quiet(settings, simulator_group, bridge, tmp_path)
    finally:
        bridge.send_signal(signal.SIGTERM)
        bridge.wait(timeout=30)

    records = await read_to_end(settings, settings.topics.events().values())
    messages = [SimMessage(r.topic, r.key or b"", r.value, "wire", json.loads(r.value)) for r in records]
    applied = [event_id_of(m) or "" for m in await application_order(settings.store.url, messages)]
    state = answered_live(
        simulator.world, simulator.recorder.received, [m.event for m in messages if m.event is not None]
    )
    verdict = judge_state(state, messages, applied)
    wire = await wire_commands(settings)
    verdict.problems[:0] = wire_problems(wire, messages, await decided_order(settings.store.url))
    print(f"\n[closed loop] presses={verdict.presses} notes={verdict.notes} commands={len(wire)}")
    verdict.assert_right()
    # news beyond the "created" note of each work order: state changes, notes, task news
    assert verdict.presses > 150 and verdict.notes > verdict.presses + 150, verdict
    several = sum(1 for n in _commands_per_record(wire).values() if n > 1)
    assert several > 30, "records with several commands, whose order the wire check saw"


async def _quiet(
    settings: Settings, simulator_group: str, bridge: subprocess.Popen[bytes], logs: Path, timeout_s: float = 150
) -> None:
    """Until the bridge consumed and published everything and the systems answered all of it,
    twice in a row (an answer is new input for the bridge)."""
    command_partitions = await partitions_of(settings, settings.topics.commands().values())
    systems = settings.model_copy(
        update={"consumer": settings.consumer.model_copy(update={"group_id": simulator_group})}
    )
    deadline = asyncio.get_running_loop().time() + timeout_s
    calm = 0
    async with Progress(settings) as progress:
        while calm < 2:
            assert bridge.poll() is None, (logs / "bridge.log").read_text()[-3000:]
            assert asyncio.get_running_loop().time() < deadline, "the loop did not come to rest"
            answered = await committed_offsets(systems, command_partitions) == await end_offsets(
                settings, command_partitions
            )
            calm = calm + 1 if answered and await progress.drained() else 0
            await asyncio.sleep(0.5)


def _commands_per_record(wire: list[WireCommand]) -> dict[str, int]:
    counts: dict[str, int] = {}
    for w in wire:
        command = w.command
        target = command["sys_id"] or command["correlation_id"]
        counts[target] = counts.get(target, 0) + 1
    return counts
