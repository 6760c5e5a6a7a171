"""The bridge as a real process on a real broker: the pipe works, duplicates give one command,
bad input is dead-lettered without stopping the stream, and a SIGKILL inside a batch loses
nothing."""

from __future__ import annotations

import asyncio
import json
import signal
import subprocess
import sys
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest

from bridge.settings import Settings
from tests.e2e.kafka_io import collect, commands, produce, start_bridge
from tests.fixtures.events import make_event, new_sys_id
from tests.reliability.drive import Progress
from tests.reliability.kafka_tools import committed_offsets, end_offsets, partitions_of, produce_messages
from tests.reliability.systems_check import check_systems
from tests.reliability.workloads import realistic_world

pytestmark = pytest.mark.kafka


async def test_examples_flow_through_and_duplicates_give_one_command(
    bridge_settings: Settings, bridge_env: dict[str, str], bridge_process: Any
) -> None:
    bridge_process()
    case = make_event("csm-case-insert")
    act = make_event("csm-case-action-create-work-order")
    await produce(bridge_settings, [make_event("csm-contact-insert"), make_event("csm-account-insert"), case, act, act])
    [insert] = commands(await collect(bridge_settings, bridge_settings.topics.fsm_commands, lambda m: len(m) >= 1))
    assert insert["table"] == "wm_order" and insert["fields"]["initiated_from"] == case["sys_id"]

    # FSM answers as the contract says; the bridge links the work order and notes it on the case
    answer = make_event(
        "fsm-work-order-insert",
        caused_by_command=insert["command_id"],
        record={"correlation_id": insert["correlation_id"]},
    )
    await produce(bridge_settings, [answer, act])  # and the press, redelivered later
    notes = commands(await collect(bridge_settings, bridge_settings.topics.csm_commands, lambda m: len(m) >= 1))
    assert notes[0]["sys_id"] == case["sys_id"]
    inspected = subprocess.run(
        [sys.executable, "-m", "cli", "inspect", "case", "CS0001001", "--json"],
        env={**__import__("os").environ, **bridge_env},
        capture_output=True,
        text=True,
        check=True,
    )
    view = json.loads(inspected.stdout)
    assert [wo["sys_id"] for wo in view["work_orders"]] == [answer["sys_id"]]
    # still exactly one work-order insert after the duplicate and the later redelivery
    again = commands(await collect(bridge_settings, bridge_settings.topics.fsm_commands, lambda m: False, timeout_s=3))
    assert [c["command_id"] for c in again if c["operation"] == "insert"] == [insert["command_id"]]


async def test_malformed_event_goes_to_the_dead_letter_topic_and_the_stream_goes_on(
    bridge_settings: Settings, bridge_process: Any
) -> None:
    bridge_process()
    after = make_event("csm-case-action-create-work-order", sys_id=new_sys_id())
    await produce(bridge_settings, [b'{"event_id": "x", "sys_id": ', after], topic=bridge_settings.topics.csm_events)
    dlq = await collect(bridge_settings, bridge_settings.topics.dead_letters, lambda m: len(m) >= 1)
    assert dlq[0].value == b'{"event_id": "x", "sys_id": '
    headers = {k: v.decode() for k, v in dlq[0].headers}
    assert headers["x-bridge-reason"] == "invalid_json"
    assert headers["x-bridge-original-topic"] == bridge_settings.topics.csm_events
    assert headers["x-bridge-stage"] == "decode" and "x-bridge-original-offset" in headers
    [insert] = commands(await collect(bridge_settings, bridge_settings.topics.fsm_commands, lambda m: len(m) >= 1))
    assert insert["fields"]["initiated_from"] == after["sys_id"]


async def test_sigkill_inside_a_batch_loses_nothing_and_the_systems_hold_what_the_model_says(
    bridge_settings: Settings, bridge_env: dict[str, str], tmp_path: Path
) -> None:
    """The kill lands inside a batch, shown by the test: the failpoint ``after_store_commit``
    holds a batch whose store transaction committed (nothing published, offsets not committed),
    the test SIGKILLs the bridge there, and the group's committed offsets read after the kill are
    past the start and short of the end of the input. A new life finishes; the commands on the
    wire, answered by the simulated systems, leave them as the independent model says."""
    world, messages = realistic_world(seed=41, changes=1_500)
    half = len(messages) // 2
    settings = bridge_settings
    partitions = await partitions_of(settings, settings.topics.events().values())
    await produce_messages(settings, messages[:half])
    hold, reached = tmp_path / "after_store_commit.hold", tmp_path / "after_store_commit.reached"
    env = {**bridge_env, "BRIDGE_CONSUMER__MAX_RECORDS": "50", "BRIDGE_FAILPOINT_DIR": str(tmp_path)}
    first = start_bridge(
        {**env, "BRIDGE_FAILPOINTS": "after_store_commit=1:hold"}, log_path=str(tmp_path / "bridge-1.log")
    )
    second = None
    try:
        await _until(lambda: _some_committed(settings, partitions), first, tmp_path)
        hold.touch()  # the passes from now on stop there
        passes = _lines(reached)
        await produce_messages(settings, messages[half:])
        await _until(lambda: _true(_lines(reached) > passes), first, tmp_path)
        first.send_signal(signal.SIGKILL)
        first.wait(timeout=10)
        committed = await committed_offsets(settings, partitions)
        ends = await end_offsets(settings, partitions)
        assert 0 < sum(max(o, 0) for o in committed.values()) < sum(ends.values()), (
            f"the kill must land mid-stream, before the last commit: {committed} of {ends}"
        )

        second = start_bridge(env, log_path=str(tmp_path / "bridge-2.log"))
        async with Progress(settings) as progress:
            await progress.wait_drained(120)
    finally:
        for process in (first, second):
            if process is not None and process.poll() is None:
                process.send_signal(signal.SIGTERM)
                process.wait(timeout=30)

    verdict = await check_systems(settings, world, messages)
    verdict.assert_right()
    assert verdict.presses > 150


async def _some_committed(settings: Settings, partitions: list) -> bool:
    return any(offset > 0 for offset in (await committed_offsets(settings, partitions)).values())


async def _true(value: bool) -> bool:
    return value


def _lines(path: Path) -> int:
    return len(path.read_text().split()) if path.exists() else 0


async def _until(
    condition: Callable[[], Awaitable[bool]], process: subprocess.Popen[bytes], logs: Path, timeout_s: float = 90
) -> None:
    deadline = asyncio.get_running_loop().time() + timeout_s
    while not await condition():
        assert process.poll() is None, (logs / "bridge-1.log").read_text()[-3000:]
        assert asyncio.get_running_loop().time() < deadline, "timed out"
        await asyncio.sleep(0.05)
