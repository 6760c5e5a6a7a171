"""The business dedupe key: event id, and (sys_id, sys_mod_count, operation, action)."""

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
