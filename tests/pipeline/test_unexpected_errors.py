"""An unexpected exception (a bug) costs one event, never the stream, and never loses it.

Inside an event's flows it dead-letters that event only, undoing what its flows had done, and
the rest of the batch goes on. A transient error there still fails the whole batch (it is
retried, never dead-lettered). Real processor, real SQLite store.
"""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy.exc import OperationalError
from sqlalchemy.ext.asyncio import AsyncEngine

from bridge.flows import default_router
from bridge.flows.context import FlowContext
from bridge.pipeline.batch import BatchProcessor
from bridge.pipeline.factory import change_hooks
from connectors.common import Event
from tests.fixtures.events import make_event, new_sys_id
from tests.pipeline.harness import Harness


class FailingFor:
    """The bridge's router, plus a last handler that raises for one record: a bug that the
    record's data happens to trigger, after the real flows already produced their commands."""

    def __init__(self, sys_id: str, error: Exception) -> None:
        self._router = default_router()
        self._sys_id = sys_id
        self._error = error

    def handlers_for(self, event: Event) -> list[Any]:
        handlers = self._router.handlers_for(event)
        return [*handlers, self._raise] if event.sys_id == self._sys_id else handlers

    async def _raise(self, ctx: FlowContext) -> None:
        raise self._error


def _harness(engine: AsyncEngine, failing: FailingFor) -> Harness:
    harness = Harness(engine)
    harness.processor = BatchProcessor(
        harness.store,
        harness.topics,
        failing,  # type: ignore[arg-type]
        lambda: harness.mappings,
        change_hooks(),
    )
    return harness


def _work_order_request() -> dict[str, Any]:
    return make_event("csm-case-action-create-work-order", sys_id=new_sys_id())


async def test_a_bug_in_one_events_flows_dead_letters_that_event_and_the_batch_goes_on(
    store_engine: AsyncEngine,
) -> None:
    before, buggy, after = (_work_order_request() for _ in range(3))
    harness = _harness(store_engine, FailingFor(buggy["sys_id"], KeyError("short_description")))

    result = await harness.feed(before, buggy, after)

    made = [(r["cause_event_id"], r["target_table"]) for r in result.outbox if r["kind"] == "command"]
    assert sorted(made) == sorted([(before["event_id"], "wm_order"), (after["event_id"], "wm_order")]), (
        "the good requests made their work orders; the buggy one's was undone"
    )
    assert result.outcomes["dead_lettered"] == 1 and result.outcomes["applied"] == 2
    [letter] = await harness.dead_letters()
    assert (letter["event_id"], letter["stage"], letter["reason_code"], letter["error_class"]) == (
        buggy["event_id"],
        "flow",
        "internal_error",
        "KeyError",
    )
    assert [r["rule"] for r in result.outbox if r["kind"] == "dead_letter"] == ["dead_letter"]


async def test_the_dead_lettered_event_runs_again_once_the_bug_is_fixed(store_engine: AsyncEngine) -> None:
    request = _work_order_request()
    await _harness(store_engine, FailingFor(request["sys_id"], ValueError("bug"))).feed(request)

    fixed = Harness(store_engine)  # the next release: the shipped flows without the bug
    commands = await fixed.run(request)  # `dlq retry` re-injects it at a new position

    assert [c["table"] for c in commands] == ["wm_order"], "it was not recorded as processed"


async def test_a_transient_error_inside_a_flow_fails_the_batch_instead(store_engine: AsyncEngine) -> None:
    good, unlucky = _work_order_request(), _work_order_request()
    locked = OperationalError("UPDATE", {}, Exception("database is locked"))
    harness = _harness(store_engine, FailingFor(unlucky["sys_id"], locked))

    with pytest.raises(OperationalError):
        await harness.feed(good, unlucky)

    assert await harness.dead_letters() == [], "never dead-lettered: the batch is retried"
    assert len(await Harness(store_engine).run(good, unlucky)) == 2, "nothing was committed"
