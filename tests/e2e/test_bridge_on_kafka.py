"""The bridge as a real process on a real broker: the pipe works, duplicates give one command,
bad input is dead-lettered without stopping the stream, and SIGKILL loses nothing."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
from typing import Any

import pytest

from bridge.settings import Settings
from tests.e2e.kafka_io import collect, commands, produce
from tests.fixtures.events import make_event, new_sys_id

pytestmark = pytest.mark.kafka


async def test_examples_flow_through_and_duplicates_give_one_command(
        bridge_settings: Settings, bridge_env: dict[str, str], bridge_process: Any) -> None:
    bridge_process()
    case = make_event("csm-case-insert")
    act = make_event("csm-case-action-create-work-order")
    await produce(bridge_settings, [make_event("csm-contact-insert"),
                                    make_event("csm-account-insert"), case, act, act])
    [insert] = commands(await collect(bridge_settings, bridge_settings.topics.fsm_commands,
                                      lambda m: len(m) >= 1))
    assert insert["table"] == "wm_order" and insert["fields"]["initiated_from"] == case["sys_id"]

    # FSM answers as the contract says; the bridge links the work order and notes it on the case
    answer = make_event("fsm-work-order-insert", caused_by_command=insert["command_id"],
                        record={"correlation_id": insert["correlation_id"]})
    await produce(bridge_settings, [answer, act])  # and the press, redelivered later
    notes = commands(await collect(bridge_settings, bridge_settings.topics.csm_commands,
                                   lambda m: len(m) >= 1))
    assert notes[0]["sys_id"] == case["sys_id"]
    inspected = subprocess.run([sys.executable, "-m", "cli", "inspect", "case", "CS0001001",
                                "--json"], env={**__import__("os").environ, **bridge_env},
                               capture_output=True, text=True, check=True)
    view = json.loads(inspected.stdout)
    assert [wo["sys_id"] for wo in view["work_orders"]] == [answer["sys_id"]]
    # still exactly one work-order insert after the duplicate and the later redelivery
    again = commands(await collect(bridge_settings, bridge_settings.topics.fsm_commands,
                                   lambda m: False, timeout_s=3))
    assert [c["command_id"] for c in again if c["operation"] == "insert"] == [insert["command_id"]]


async def test_malformed_event_goes_to_the_dead_letter_topic_and_the_stream_goes_on(
        bridge_settings: Settings, bridge_process: Any) -> None:
    bridge_process()
    after = make_event("csm-case-action-create-work-order", sys_id=new_sys_id())
    await produce(bridge_settings, [b'{"event_id": "x", "sys_id": ', after],
                  topic=bridge_settings.topics.csm_events)
    dlq = await collect(bridge_settings, bridge_settings.topics.dead_letters, lambda m: len(m) >= 1)
    assert dlq[0].value == b'{"event_id": "x", "sys_id": '
    headers = {k: v.decode() for k, v in dlq[0].headers}
    assert headers["x-bridge-reason"] == "invalid_json"
    assert headers["x-bridge-original-topic"] == bridge_settings.topics.csm_events
    assert headers["x-bridge-stage"] == "decode" and "x-bridge-original-offset" in headers
    [insert] = commands(await collect(bridge_settings, bridge_settings.topics.fsm_commands,
                                      lambda m: len(m) >= 1))
    assert insert["fields"]["initiated_from"] == after["sys_id"]


async def test_sigkill_mid_stream_loses_no_event(bridge_settings: Settings,
                                                 bridge_process: Any) -> None:
    cases = [new_sys_id() for _ in range(400)]
    await produce(bridge_settings, [make_event("csm-case-action-create-work-order", sys_id=s)
                                    for s in cases])
    first = bridge_process()
    await collect(bridge_settings, bridge_settings.topics.fsm_commands, lambda m: len(m) >= 50,
                  timeout_s=60)
    first.send_signal(signal.SIGKILL)
    first.wait(timeout=10)
    bridge_process()
    seen = commands(await collect(
        bridge_settings, bridge_settings.topics.fsm_commands,
        lambda m: {json.loads(x.value)["fields"]["initiated_from"] for x in m} >= set(cases),
        timeout_s=120))
    per_case: dict[str, set[str]] = {}
    for command in seen:
        per_case.setdefault(command["fields"]["initiated_from"], set()).add(command["command_id"])
    assert set(per_case) == set(cases)  # every case got its work order: nothing lost
    assert all(len(ids) == 1 for ids in per_case.values())  # and never a second one
