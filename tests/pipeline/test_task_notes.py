"""A technician's work on a work order task reaches the case (issue 21, item 3): each work note
or comment on a ``wm_task`` becomes a case work note naming the task and its work order, like a
work order's own notes. Each scenario runs on the real store and through the real broker."""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select

from bridge.store.schema import links as links_table
from tests.fixtures.events import make_event, new_sys_id
from tests.pipeline.harness import Harness

CASE_ID = make_event("csm-case-insert")["sys_id"]
WO = make_event("fsm-work-order-insert", caused_by_command=None)  # initiated_from the case
TASK_ID = new_sys_id()


def task(
    mod: int,
    *,
    operation: str = "update",
    changed: tuple[str, ...] = (),
    notes: tuple[tuple[str, str, str], ...] = (),
    **record: Any,
) -> dict[str, Any]:
    """An FSM event on the task; ``notes`` are (element, author, text) journal entries."""
    return make_event(
        "fsm-task-insert",
        sys_id=TASK_ID,
        sys_mod_count=mod,
        operation=operation,
        changed_fields=list(changed),
        record=record or None,
        journal=[
            {"element": element, "value": value, "sys_created_on": "2026-11-23 10:00:00", "sys_created_by": by}
            for element, by, value in notes
        ],
    )


def case_notes(commands: list[dict[str, Any]]) -> list[tuple[str, str, str]]:
    return [(c["sys_id"], e["element"], e["value"]) for c in commands for e in c["journal"]]


async def linked_task(h: Harness) -> None:
    await h.feed(make_event("csm-case-insert"))
    await h.feed(WO)
    assert await h.run(task(0, operation="insert")) == []  # a new task: nothing to say yet


async def test_task_work_notes_and_comments_become_case_work_notes(h: Harness) -> None:
    await linked_task(h)
    commands = await h.run(
        task(
            1,
            notes=(
                ("work_notes", "tess.tech", "Fuser replaced, testing now"),
                ("comments", "tess.tech", "Your printer works again"),
            ),
        )
    )
    assert all(
        c["target"] == "csm"
        and c["table"] == "sn_customerservice_case"
        and c["operation"] == "update"
        and c["fields"] == {}
        for c in commands
    )
    assert case_notes(commands) == [
        (
            CASE_ID,
            "work_notes",
            "Work order task WOT0010001 (WO0010001), note from tess.tech:\nFuser replaced, testing now",
        ),
        (
            CASE_ID,
            "work_notes",
            "Work order task WOT0010001 (WO0010001), comment from tess.tech:\nYour printer works again",
        ),
    ]
    assert len({c["command_id"] for c in commands}) == 2
    # a note that comes with a state change: the note, then the state
    closing = await h.run(
        task(2, changed=("state",), state="closed_complete", notes=(("work_notes", "tess.tech", "Done"),))
    )
    assert [text for _, _, text in case_notes(closing)] == [
        "Work order task WOT0010001 (WO0010001), note from tess.tech:\nDone",
        "Work order task WOT0010001 (WO0010001) is Closed Complete",
    ]


async def test_a_task_note_redelivered_reaches_the_case_once(h: Harness) -> None:
    await linked_task(h)
    note = task(1, notes=(("work_notes", "tess.tech", "On my way"),))
    first = await h.run(note)
    again = await h.feed({**note, "event_id": new_sys_id()})  # republished: a new event id
    assert len(first) == 1 and h.commands(again) == [] and again.outcomes == {"in": 1, "duplicate": 1}


async def test_the_text_of_the_bridges_own_command_is_not_passed_back(store_harness: Harness) -> None:
    h = store_harness
    await linked_task(h)
    echo = task(
        1,
        changed=("state",),
        state="canceled",
        notes=(("work_notes", "csm_fsm_bridge", "Canceled: order line cancelled"),),
    )
    echo["caused_by_command"] = new_sys_id()
    # the state change is news for the case; the journal is our own text
    assert [text for _, _, text in case_notes(await h.run(echo))] == [
        "Work order task WOT0010001 (WO0010001) is Canceled"
    ]


async def test_notes_made_before_the_work_order_arrives_wait_for_its_case(h: Harness) -> None:
    """Records come in any order: the task's notes may arrive before the work order's insert
    (which links it to the case). They wait, and reach the case once, in their order."""
    await h.feed(make_event("csm-case-insert"))
    assert await h.run(task(0, operation="insert")) == []
    commands, result = await h.outcomes(
        task(1, notes=(("work_notes", "tess.tech", "First"), ("comments", "tess.tech", "Second")))
    )
    assert commands == [] and result.outcomes == {"in": 1, "applied": 1}
    assert (
        await h.run(
            task(2, changed=("state",), state="work_in_progress", notes=(("work_notes", "tess.tech", "Third"),))
        )
        == []
    )
    delivered = await h.run(WO)
    assert [text for case_id, _, text in case_notes(delivered) if case_id == CASE_ID] == [
        "Work order WO0010001 created for case CS0001001",
        "Work order task WOT0010001 (WO0010001), note from tess.tech:\nFirst",
        "Work order task WOT0010001 (WO0010001), comment from tess.tech:\nSecond",
        "Work order task WOT0010001 (WO0010001), note from tess.tech:\nThird",
        "Work order task WOT0010001 (WO0010001) is Work in Progress",
    ]
    # delivered once: later news go straight to the case
    later = await h.run(task(3, notes=(("work_notes", "tess.tech", "Fourth"),)))
    assert [text for _, _, text in case_notes(later)] == [
        "Work order task WOT0010001 (WO0010001), note from tess.tech:\nFourth"
    ]


async def test_notes_wait_for_a_case_that_arrives_after_its_work_order(store_harness: Harness) -> None:
    h = store_harness
    await h.feed(WO)  # FSM's own work order, initiated from a case the bridge has not seen
    await h.feed(task(0, operation="insert"))
    assert await h.run(task(1, notes=(("work_notes", "tess.tech", "Waiting"),))) == []
    arrived = case_notes(await h.run(make_event("csm-case-insert")))
    assert arrived == [(CASE_ID, "work_notes", "Work order task WOT0010001 (WO0010001), note from tess.tech:\nWaiting")]


async def test_notes_on_a_task_of_a_work_order_without_case_are_dropped(store_harness: Harness) -> None:
    h = store_harness
    await h.feed(task(0, operation="insert"))
    await h.feed(task(1, notes=(("work_notes", "tess.tech", "Held"),)))
    lone = make_event("fsm-work-order-insert", caused_by_command=None, record={"initiated_from": ""})
    assert await h.run(lone) == []  # not from a case: the waiting notes go
    assert await h.run(task(2, notes=(("comments", "tess.tech", "Hello"),))) == []
    async with h.engine.connect() as conn:
        held = (
            await conn.execute(
                select(func.count()).select_from(links_table).where(links_table.c.kind == "held_task_note")
            )
        ).scalar_one()
    assert held == 0
