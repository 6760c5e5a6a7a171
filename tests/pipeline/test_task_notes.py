"""A technician's work on a work order task reaches the case (issue 21, item 3): each work note
or comment on a ``wm_task`` becomes a case work note naming the task and its work order, like a
work order's own notes. Each scenario runs on the real store and through the real broker."""

from __future__ import annotations

from typing import Any

from tests.fixtures.events import make_event, new_sys_id
from tests.pipeline.harness import Harness

CASE_ID = make_event("csm-case-insert")["sys_id"]
WO = make_event("fsm-work-order-insert", caused_by_command=None)  # initiated_from the case
TASK_ID = new_sys_id()


def task(mod: int, *, operation: str = "update", changed: tuple[str, ...] = (),
         notes: tuple[tuple[str, str, str], ...] = (), **record: Any) -> dict[str, Any]:
    """An FSM event on the task; ``notes`` are (element, author, text) journal entries."""
    return make_event("fsm-task-insert", sys_id=TASK_ID, sys_mod_count=mod, operation=operation,
                      changed_fields=list(changed), record=record or None,
                      journal=[{"element": element, "value": value,
                                "sys_created_on": "2026-11-23 10:00:00", "sys_created_by": by}
                               for element, by, value in notes])


def case_notes(commands: list[dict[str, Any]]) -> list[tuple[str, str, str]]:
    return [(c["sys_id"], e["element"], e["value"]) for c in commands for e in c["journal"]]


async def linked_task(h: Harness) -> None:
    await h.feed(make_event("csm-case-insert"))
    await h.feed(WO)
    assert await h.run(task(0, operation="insert")) == []  # a new task: nothing to say yet


async def test_task_work_notes_and_comments_become_case_work_notes(h: Harness) -> None:
    await linked_task(h)
    commands = await h.run(task(1, notes=(
        ("work_notes", "tess.tech", "Fuser replaced, testing now"),
        ("comments", "tess.tech", "Your printer works again"))))
    assert all(c["target"] == "csm" and c["table"] == "sn_customerservice_case" and
               c["operation"] == "update" and c["fields"] == {} for c in commands)
    assert case_notes(commands) == [
        (CASE_ID, "work_notes",
         "Work order task WOT0010001 (WO0010001), note from tess.tech:\n"
         "Fuser replaced, testing now"),
        (CASE_ID, "work_notes",
         "Work order task WOT0010001 (WO0010001), comment from tess.tech:\n"
         "Your printer works again"),
    ]
    assert len({c["command_id"] for c in commands}) == 2
    # a note that comes with a state change: the note, then the state
    closing = await h.run(task(2, changed=("state",), state="closed_complete",
                               notes=(("work_notes", "tess.tech", "Done"),)))
    assert [text for _, _, text in case_notes(closing)] == [
        "Work order task WOT0010001 (WO0010001), note from tess.tech:\nDone",
        "Work order task WOT0010001 (WO0010001) is Closed Complete"]


async def test_a_task_note_redelivered_reaches_the_case_once(h: Harness) -> None:
    await linked_task(h)
    note = task(1, notes=(("work_notes", "tess.tech", "On my way"),))
    first = await h.run(note)
    again = await h.feed({**note, "event_id": new_sys_id()})  # republished: a new event id
    assert len(first) == 1 and h.commands(again) == [] and again.outcomes == {"in": 1,
                                                                             "duplicate": 1}


async def test_the_text_of_the_bridges_own_command_is_not_passed_back(store_harness: Harness
                                                                     ) -> None:
    h = store_harness
    await linked_task(h)
    echo = task(1, changed=("state",), state="canceled",
                notes=(("work_notes", "csm_fsm_bridge", "Canceled: order line cancelled"),))
    echo["caused_by_command"] = new_sys_id()
    # the state change is news for the case; the journal is our own text
    assert [text for _, _, text in case_notes(await h.run(echo))] == [
        "Work order task WOT0010001 (WO0010001) is Canceled"]


async def test_a_note_on_a_task_whose_work_order_has_no_known_case_is_said_unlinked(
        store_harness: Harness) -> None:
    h = store_harness
    await h.feed(task(0, operation="insert"))  # the work order is not known yet
    commands, result = await h.outcomes(task(1, notes=(("comments", "tess.tech", "Hello"),)))
    assert commands == [] and result.outcomes == {"in": 1, "unlinked": 1}

