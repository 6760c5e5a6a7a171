"""The dedupe key is the version, (sys_id, sys_mod_count, operation, action): every copy of an
event has it, whether redelivered (same event id) or republished (a new one)."""

from __future__ import annotations

from typing import Any

from tests.fixtures.events import make_event
from tests.pipeline.harness import Harness


async def test_two_different_actions_on_the_same_case_version_both_run(store_engine: Any) -> None:
    h = Harness(store_engine)
    work_order = make_event("csm-case-action-create-work-order")
    incident = make_event("csm-case-action-create-work-order", action="create_incident")
    result = await h.feed(work_order, incident)
    assert sorted(c["table"] for c in h.commands(result)) == ["incident", "wm_order"]
    assert result.outcomes.get("duplicate") is None


async def test_a_republished_copy_of_an_update_is_a_duplicate(store_engine: Any) -> None:
    h = Harness(store_engine)
    update = make_event("csm-case-update")
    copy = {**update, "event_id": "republished-with-a-new-id"}
    await h.feed(make_event("csm-case-insert"), update)
    result = await h.feed(copy)
    assert result.outcomes == {"in": 1, "duplicate": 1}


async def test_a_redelivered_copy_is_a_duplicate_even_in_a_later_batch(store_engine: Any) -> None:
    h = Harness(store_engine)
    update = make_event("csm-case-update")
    await h.feed(make_event("csm-case-insert"), update)
    result = await h.feed(update)
    assert result.outcomes == {"in": 1, "duplicate": 1}
    assert h.commands(result) == []


async def test_a_new_version_is_applied_even_under_an_event_id_seen_before(store_engine: Any) -> None:
    """A system that reused an event id for another change: the change is not lost."""
    h = Harness(store_engine)
    update = make_event("csm-case-update")
    await h.feed(make_event("csm-case-insert"), update)
    newer = {**update, "sys_mod_count": str(int(update["sys_mod_count"]) + 1)}
    result = await h.feed(newer)
    assert result.outcomes.get("duplicate") is None and result.outcomes["in"] == 1


async def test_a_redelivered_press_is_a_duplicate_in_a_later_batch(store_engine: Any) -> None:
    """Each press's copy, redelivered after its batch committed, is found by its whole key
    (action and press included): nothing runs twice, nothing is dead-lettered."""
    h = Harness(store_engine)
    work_order = make_event("csm-case-action-create-work-order")
    incident = make_event("csm-case-action-create-work-order", action="create_incident")
    first = await h.feed(work_order, incident)
    assert len(h.commands(first)) == 2
    for press in (work_order, incident):
        again = await h.feed(press)
        assert again.outcomes == {"in": 1, "duplicate": 1}
        assert again.outbox == []
    assert await h.dead_letters() == []
