"""The simulated event stream: deterministic, contract-valid, with the asked-for noise."""

from __future__ import annotations

import hashlib
import json
from collections import Counter

import pytest

from bridgedev.simulate import MIXES, Mix, SimWorld, Workload, simulation_stream
from bridgedev.simulate.workload import EmptyWorldError
from tests.simulate.contract import check_event


def _digest(seed: int, count: int) -> str:
    digest = hashlib.sha256()
    for message in simulation_stream(seed, size="tiny", count=count):
        digest.update(message.source.encode() + message.key + message.value)
    return digest.hexdigest()


def test_same_seed_gives_a_byte_identical_stream() -> None:
    assert _digest(7, 3000) == _digest(7, 3000)


def test_another_seed_gives_another_stream() -> None:
    assert _digest(7, 500) != _digest(8, 500)


def test_every_event_of_a_long_run_follows_the_contract() -> None:
    last_count: dict[str, int] = {}
    operations: Counter[str] = Counter()
    for message in simulation_stream(11, size="small", mix="clean", count=4000):
        event = json.loads(message.value)
        check_event(event, last_count)
        assert message.key == event["sys_id"].encode()
        assert message.source == event["source"]
        operations[event["operation"]] += 1
    assert set(operations) == {"insert", "update", "action", "delete"}


def test_every_action_and_change_kind_appears_in_the_standard_mix() -> None:
    kinds = Counter(m.kind for m in simulation_stream(3, size="small", count=3000))
    for kind in MIXES["standard"].weights:
        assert kinds[kind] > 0, kind
    actions = Counter()
    for message in simulation_stream(3, size="small", count=3000):
        if message.kind.startswith("create_"):
            event = json.loads(message.value)
            actions[(event["action"], event["action_args"].get("type", ""))] += 1
    assert ("create_change", "normal") in actions and ("create_change", "standard") in actions


@pytest.mark.parametrize("share", [0.0, 0.05, 0.2])
def test_malformed_share_is_as_asked(share: float) -> None:
    world = SimWorld(5)
    for _ in simulation_stream(5, size="tiny", count=0, world=world):
        pass
    mix = Mix(MIXES["standard"].weights, duplicate_share=0.0, malformed_share=share)
    messages = list(Workload(world, mix).messages(4000))
    malformed = [m for m in messages if m.kind.startswith("malformed:")]
    assert abs(len(malformed) / len(messages) - share) < 0.02
    for message in malformed:
        assert not _is_contract_valid(message.value), message.kind


def test_duplicates_resend_earlier_events_byte_for_byte() -> None:
    world = SimWorld(6)
    for _ in simulation_stream(6, size="tiny", count=0, world=world):
        pass
    mix = Mix(MIXES["standard"].weights, duplicate_share=0.1, malformed_share=0.0)
    seen: set[bytes] = set()
    duplicates = 0
    for message in Workload(world, mix).messages(2000):
        if message.kind.startswith("duplicate:"):
            duplicates += 1
            assert message.value in seen
        else:
            assert message.value not in seen
        seen.add(message.value)
    assert 120 < duplicates < 280


def _is_contract_valid(raw: bytes) -> bool:
    try:
        event = json.loads(raw.decode())
        check_event(event, {event["sys_id"]: int(event["sys_mod_count"]) - 1})
    except (ValueError, KeyError, TypeError, AssertionError, AttributeError):
        return False
    return True


def test_fsm_and_itsm_records_go_through_their_lifecycles() -> None:
    seen: set[tuple[str, str]] = set()
    for message in simulation_stream(9, size="small", mix="lifecycle", count=3000):
        event = json.loads(message.value)
        record, changed = event["record"], set(event["changed_fields"])
        table = event["table"]
        if table == "incident" and record["state"] == "3" and "state" in changed:
            assert record["hold_reason"]
            seen.add((table, "on_hold"))
        elif table == "incident" and record["state"] == "6" and "state" in changed:
            assert record["close_code"] and record["close_notes"]
            seen.add((table, "resolved"))
        elif table == "problem" and changed & {"workaround", "fix_notes"}:
            seen.add((table, "workaround" if "workaround" in changed else "fix"))
        elif table == "problem" and record["state"] == "107":
            seen.add((table, "closed"))
        elif table == "change_request" and "on_hold" in changed and record["on_hold"] == "true":
            assert record["on_hold_reason"]
            seen.add((table, "on_hold"))
        elif table == "change_request" and record["state"] == "3" and "state" in changed:
            assert record["close_code"] in ("successful", "successful_issues", "unsuccessful")
            seen.add((table, "closed"))
        elif table == "sc_request" and record["request_state"].startswith("closed_"):
            seen.add((table, "closed"))
        elif table == "wm_task" and event["operation"] == "insert":
            assert record["parent"] and record["assigned_to"]
            seen.add((table, "added"))
        elif table == "wm_order" and record["state"] == "closed_complete":
            seen.add((table, "closed"))
        elif event["journal"]:
            seen.add((table, "journal"))
    assert seen >= {
        ("incident", "on_hold"),
        ("incident", "resolved"),
        ("problem", "workaround"),
        ("problem", "fix"),
        ("problem", "closed"),
        ("change_request", "on_hold"),
        ("change_request", "closed"),
        ("sc_request", "closed"),
        ("wm_task", "added"),
        ("wm_order", "closed"),
        ("incident", "journal"),
    }


def test_the_workload_moves_what_a_work_orders_location_follows() -> None:
    """CI sites and contact locations move, CIs are added, cases change CI and location."""
    seen: Counter[str] = Counter()
    for message in simulation_stream(12, size="small", mix="clean", count=3000):
        event = json.loads(message.value)
        table, changed = event["table"], set(event["changed_fields"])
        if table == "cmdb_ci":
            seen[
                "ci added"
                if message.kind == "ci_change" and event["operation"] == "insert"
                else "ci site"
                if "location" in changed
                else "ci other"
            ] += 1
        elif table == "customer_contact" and "location" in changed:
            seen["contact location"] += 1
        elif table in ("sn_customerservice_case", "sn_order_case"):
            seen.update(f"case {field}" for field in changed & {"cmdb_ci", "location"})
    assert all(seen[k] > 0 for k in ("ci added", "ci site", "contact location", "case cmdb_ci", "case location")), seen


def test_a_workload_on_a_world_without_records_says_so() -> None:
    with pytest.raises(EmptyWorldError, match="populate the world first"):
        next(Workload(SimWorld(1)).messages(1))
