"""The independent oracle (``systems_model``) on the bridge's real batch processor, in process:
the commands it decides for a realistic input, answered by the simulated systems, leave them
holding exactly what the contract and the mapping YAML say. No broker: the quick loop for flow
and mapping bugs (a work order without its CI's site, say), which the real-broker scenarios
then check under faults."""

from __future__ import annotations

import asyncio
import json
import shutil
from pathlib import Path

import pytest
import yaml

from bridge.settings import TopicNames
from bridgedev.simulate import SimWorld
from tests.reliability.oracle import MAPPINGS, RunResult, ordered_run
from tests.reliability.related_news import ref, related_record_news
from tests.reliability.systems_model import _ordered_events, expectations, judge_systems
from tests.reliability.workloads import linked_world, realistic_world

SEED, CHANGES, LINKED_CHANGES = 31, 2_500, 3_000


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


@pytest.fixture(scope="module")
def linked_run(tmp_path_factory: pytest.TempPathFactory) -> tuple[list, RunResult]:
    """Cases holding ITSM records (major cases and children among them), then their lifecycles."""
    _, messages = linked_world(SEED, LINKED_CHANGES)
    result = asyncio.run(ordered_run(messages, TopicNames(), tmp_path_factory.mktemp("linked")))
    return messages, result


def test_every_itsm_update_gives_exactly_the_routed_notes(linked_run: tuple[list, RunResult]) -> None:
    messages, result = linked_run
    verdict = judge_systems(linked_world(SEED, LINKED_CHANGES)[0], messages, _commands(result))
    verdict.assert_right()
    expected = related_record_news(_ordered_events(messages, None))
    # the input exercises the rules: many notes, on major cases, and on a child with its own record
    assert verdict.related_notes > 200
    cases = {
        m.event["sys_id"]: m.event["record"]
        for m in messages
        if m.event and m.event["table"] == "sn_customerservice_case"
    }
    majors = {c for c, r in cases.items() if r.get("major_case_state") == "accepted"}
    assert sum(1 for m in majors if expected.get(m)) >= 2
    assert any(expected.get(c) for c, r in cases.items() if ref(r, "parent") in majors), "a child's own incident"
    assert any(text.startswith("Suggested resolution code") for notes in expected.values() for text in notes)


def test_major_case_notes_reach_the_children_the_sync_settings_name(tmp_path: Path) -> None:
    """The same input with ``parent_child_case_sync`` on for incidents: the major case's notes
    are copied to its open children that hold no other incident of their own."""
    mappings = tmp_path / "mappings"
    shutil.copytree(MAPPINGS, mappings)
    settings = mappings / "bridge.yaml"
    text = settings.read_text()
    text = text.replace("parent_child_case_sync: false", "parent_child_case_sync: true")
    settings.write_text(text.replace("[priority, state,", "[incident, priority, state,"))
    routing = yaml.safe_load(settings.read_text())["routing"]
    assert routing["parent_child_case_sync"] and "incident" in routing["case_fields_to_sync"]
    _, messages = linked_world(SEED, LINKED_CHANGES)
    result = asyncio.run(ordered_run(messages, TopicNames(), tmp_path, mappings=mappings))

    verdict = judge_systems(linked_world(SEED, LINKED_CHANGES)[0], messages, _commands(result), routing=routing)

    verdict.assert_right()
    shipped = related_record_news(_ordered_events(messages, None))
    synced = related_record_news(_ordered_events(messages, None), routing)
    copied = {case for case in synced if synced[case] != shipped.get(case)}
    assert copied, "some child got its major case's notes"
    assert verdict.related_notes == sum(c.total() for c in synced.values())
