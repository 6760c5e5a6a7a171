"""The independent oracle (``systems_model``) on the bridge's real batch processor, in process:
the commands it decides for a realistic input, answered by the simulated systems, leave them
holding exactly what the contract and the mapping YAML say. No broker: the quick loop for flow
and mapping bugs (a work order without its CI's site, say), which the real-broker scenarios
then check under faults."""

from __future__ import annotations

import asyncio
import json

import pytest

from bridge.settings import TopicNames
from bridgedev.simulate import SimWorld
from tests.reliability.oracle import RunResult, ordered_run
from tests.reliability.systems_model import expectations, judge_systems
from tests.reliability.workloads import realistic_world

SEED, CHANGES = 31, 2_500


@pytest.fixture(scope="module")
def bridge_run(tmp_path_factory: pytest.TempPathFactory) -> tuple[list, RunResult]:
    """The input and what the bridge decided for it (once for the module: ~2 s)."""
    _, messages = realistic_world(SEED, CHANGES)
    result = asyncio.run(ordered_run(messages, TopicNames(), tmp_path_factory.mktemp("model")))
    return messages, result


def _world() -> SimWorld:
    """The systems as the input left them (the same seed gives the same world), fresh per test:
    answering commands changes it."""
    return realistic_world(SEED, CHANGES)[0]


def _commands(result: RunResult) -> list[tuple[str, bytes]]:
    """In the order decided (the outbox's), each to its target system."""
    return [(json.loads(payload)["target"], payload) for payload in result.commands.values()]


def test_every_press_gives_exactly_the_record_the_mappings_define(bridge_run: tuple[list, RunResult]) -> None:
    messages, result = bridge_run
    verdict = judge_systems(_world(), messages, _commands(result))
    verdict.assert_right()
    presses = expectations(messages).presses
    work_orders = [p for p in presses if p.action == "create_work_order" and p.fields]
    # the input exercises what the model claims to check
    assert verdict.presses == len(presses) > 300
    assert {p.action for p in presses if p.fields} == {
        "create_work_order",
        "create_incident",
        "create_problem",
        "create_change",
        "create_request",
    }
    assert any(p.fields is None for p in presses), "refused presses (a second incident, say)"
    assert sum(1 for p in work_orders if p.fields and p.fields["cmdb_ci"]) > 20
    assert sum(1 for p in work_orders if p.fields and p.fields["location"]) > 100


def test_the_model_notices_a_lost_a_doubled_and_a_misplaced_work_order(bridge_run: tuple[list, RunResult]) -> None:
    messages, result = bridge_run
    commands = _commands(result)
    inserts = [
        i
        for i, (_, p) in enumerate(commands)
        if json.loads(p)["table"] == "wm_order" and json.loads(p)["operation"] == "insert"
    ]
    lost, doubled, moved = inserts[:3]
    copy = json.loads(commands[doubled][1]) | {"command_id": "another-id-for-the-same-press"}
    wrong = json.loads(commands[moved][1])
    wrong["fields"]["location"] = "0" * 32
    tampered = [c for i, c in enumerate(commands) if i not in (lost, moved)]
    tampered += [("fsm", json.dumps(copy).encode()), ("fsm", json.dumps(wrong).encode())]

    problems = judge_systems(_world(), messages, tampered).problems

    assert len(problems) == 3, problems
    assert "0 wm_order records in fsm, expected exactly 1" in problems[0] + problems[1] + problems[2]
    assert any("2 wm_order records" in p for p in problems)
    assert any("'location': ('" + "0" * 32 in p for p in problems)
