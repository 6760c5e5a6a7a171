"""Order cases keep their tasks in step with their lines (issue 21, item 4).

A line added after the work order exists gets its task; a cancelled line cancels its open task; a
line resolved as accepted or denied says so in a note on the work order (the task stays for the
technician to close); the line → task link written when FSM confirmed the task is the one used.
The ``h`` scenarios run on the real store and through the real broker."""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from typing import Any

from tests.fixtures.events import make_event, new_sys_id, ref
from tests.pipeline.harness import Harness
from tests.pipeline.test_work_orders import wo_insert_for

_numbers = itertools.count(1)


def order_case(sys_id: str, mod: int = 0, **record: Any) -> dict[str, Any]:
    return make_event(
        "csm-case-insert",
        table="sn_order_case",
        sys_id=sys_id,
        sys_mod_count=mod,
        operation="insert" if mod == 0 else "update",
        record={"sys_class_name": "sn_order_case", "number": "ORDCS0001001", **record},
    )


def item(sys_id: str, product: str) -> dict[str, Any]:
    event = make_event("csm-case-insert", table="csm_order_line_item", sys_id=sys_id)
    event["record"] = {
        "order": "",
        "product": ref(new_sys_id(), product),
        "quantity": "2",
        "state": "open",
        "ship_to": ref(new_sys_id(), "Acme HQ"),
    }
    return event


@dataclass
class Line:
    case_id: str
    number: str = field(default_factory=lambda: f"ORDCSL{next(_numbers):07d}")
    sys_id: str = field(default_factory=new_sys_id)
    item_id: str = field(default_factory=new_sys_id)
    mod: int = -1

    def event(self, state: str) -> dict[str, Any]:
        """The line's next version, in ``state``."""
        self.mod += 1
        event = make_event(
            "csm-case-insert",
            table="sn_order_case_line",
            sys_id=self.sys_id,
            sys_mod_count=self.mod,
            operation="insert" if self.mod == 0 else "update",
            changed_fields=[] if self.mod == 0 else ["state"],
        )
        event["record"] = {
            "number": self.number,
            "parent": ref(self.case_id, "ORDCS0001001"),
            "order_line_item": ref(self.item_id),
            "state": state,
        }
        return event


def task_answer(command: dict[str, Any], number: str, **record: Any) -> dict[str, Any]:
    """FSM's insert event for one of our task insert commands."""
    fields = command["fields"]
    return make_event(
        "fsm-task-insert",
        sys_id=new_sys_id(),
        caused_by_command=command["command_id"],
        record={
            "number": number,
            "parent": ref(fields["parent"], "WO0010001"),
            "state": fields["state"],
            "assigned_to": "",
            "short_description": fields["short_description"],
            "correlation_id": command["correlation_id"],
            **record,
        },
    )


def tasks(commands: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [c for c in commands if c["table"] == "wm_task" and c["operation"] == "insert"]


@dataclass
class OrderCase:
    """An order case with a work order created from it, driven through a harness."""

    h: Any
    sys_id: str = field(default_factory=new_sys_id)
    wo_id: str = field(default_factory=new_sys_id)
    task_numbers: Any = field(default_factory=lambda: (f"WOT00{n}" for n in itertools.count(20001)))
    task_of: dict[str, str] = field(default_factory=dict)  # line sys_id → task sys_id

    async def start(self, *lines: tuple[Line, str]) -> list[dict[str, Any]]:
        """Case, lines, the work order (created and confirmed); the task inserts it asked for."""
        await self.h.feed(order_case(self.sys_id))
        for line, state in lines:
            await self.h.feed(item(line.item_id, f"Toner {line.number}"))
            await self.h.feed(line.event(state))
        act = make_event(
            "csm-case-action-create-work-order",
            table="sn_order_case",
            sys_id=self.sys_id,
            record={"sys_class_name": "sn_order_case", "number": "ORDCS0001001"},
        )
        [command] = await self.h.run(act)
        self.wo_command = command
        return tasks(await self.h.run(wo_insert_for(command, self.wo_id)))

    async def confirm(self, command: dict[str, Any], line: Line, **record: Any) -> list[dict[str, Any]]:
        """FSM creates the task: the commands its insert event caused."""
        answer = task_answer(command, next(self.task_numbers), **record)
        self.task_of[line.sys_id] = answer["sys_id"]
        return await self.h.run(answer)


def line_of(command: dict[str, Any]) -> str:
    return command["correlation_id"].split(":line:")[1]


async def test_a_line_added_after_the_work_order_exists_gets_its_task(h: Harness) -> None:
    oc = OrderCase(h)
    first = Line(oc.sys_id)
    [task] = await oc.start((first, "new"))
    assert await oc.confirm(task, first) == []
    late = Line(oc.sys_id)
    await h.feed(item(late.item_id, "Drum unit"))
    [added] = await h.run(late.event("new"))
    assert (added["target"], added["table"], added["operation"]) == ("fsm", "wm_task", "insert")
    assert added["fields"]["parent"] == oc.wo_id and added["fields"]["state"] == "draft"
    assert added["correlation_id"] == f"wo:{oc.wo_id}:line:{late.sys_id}"
    assert added["fields"]["short_description"] == f"Order line {late.number}: 2 × Drum unit to Acme HQ"
    # one task per line: a later change of the line, before or after FSM confirmed it
    assert await h.run(late.event("work_in_progress")) == []
    assert await oc.confirm(added, late) == []
    assert await h.run(late.event("awaiting_info")) == []


async def test_a_cancelled_line_cancels_its_open_task(h: Harness) -> None:
    oc = OrderCase(h)
    line, done = Line(oc.sys_id), Line(oc.sys_id)
    inserts = await oc.start((line, "new"), (done, "work_in_progress"))
    for command in inserts:
        await oc.confirm(command, line if line_of(command) == line.sys_id else done)
    [cancel] = await h.run(line.event("cancelled"))
    assert (cancel["table"], cancel["operation"]) == ("wm_task", "update")
    assert cancel["sys_id"] == oc.task_of[line.sys_id]
    assert cancel["fields"] == {"state": "canceled"}
    assert cancel["journal"] == [
        {"element": "work_notes", "value": f"Canceled: order line {line.number} of case ORDCS0001001 was cancelled"}
    ]
    # a task the technician closed already stays as it is
    await h.feed(
        make_event(
            "fsm-task-insert",
            sys_id=oc.task_of[done.sys_id],
            sys_mod_count=1,
            operation="update",
            changed_fields=["state"],
            record={"parent": ref(oc.wo_id, "WO0010001"), "state": "closed_complete"},
        )
    )
    assert await h.run(done.event("cancelled")) == []


async def test_a_resolved_line_is_noted_on_the_work_order_and_its_task_stays(h: Harness) -> None:
    oc = OrderCase(h)
    accepted, denied = Line(oc.sys_id), Line(oc.sys_id)
    inserts = await oc.start((accepted, "work_in_progress"), (denied, "work_in_progress"))
    for command in inserts:
        await oc.confirm(command, accepted if line_of(command) == accepted.sys_id else denied)
    [note] = await h.run(accepted.event("resolved_accepted"))
    assert (note["target"], note["table"], note["sys_id"]) == ("fsm", "wm_order", oc.wo_id)
    assert note["operation"] == "update" and note["fields"] == {}
    [entry] = note["journal"]
    assert entry["element"] == "work_notes"
    assert entry["value"].startswith(
        f"Order line {accepted.number} of case ORDCS0001001 is Resolved – Accepted; task WOT00"
    )
    assert entry["value"].endswith("stays open for the technician to close")
    # FSM's echo of the note is not passed back to the case
    echo = wo_insert_for(oc.wo_command, oc.wo_id)
    echo.update(
        operation="update",
        sys_mod_count="1",
        caused_by_command=note["command_id"],
        journal=[{**entry, "sys_created_on": "2026-11-23 10:00:00", "sys_created_by": "csm_fsm_bridge"}],
    )
    assert await h.run(echo) == []
    [note] = await h.run(denied.event("resolved_denied"))
    assert "is Resolved – Denied" in note["journal"][0]["value"]


async def test_a_line_cancelled_while_its_task_is_on_its_way_cancels_it_on_arrival(store_harness: Harness) -> None:
    h = store_harness
    oc = OrderCase(h)
    line = Line(oc.sys_id)
    [task] = await oc.start((line, "new"))
    assert await h.run(line.event("cancelled")) == []  # no task to cancel yet
    [cancel] = await oc.confirm(task, line)
    assert cancel["sys_id"] == oc.task_of[line.sys_id] and cancel["fields"] == {"state": "canceled"}


async def test_a_line_seen_between_the_press_and_the_work_order_gets_one_task(store_harness: Harness) -> None:
    h = store_harness
    oc = OrderCase(h)
    await h.feed(order_case(oc.sys_id))
    act = make_event(
        "csm-case-action-create-work-order",
        table="sn_order_case",
        sys_id=oc.sys_id,
        record={"sys_class_name": "sn_order_case", "number": "ORDCS0001001"},
    )
    [command] = await h.run(act)
    line = Line(oc.sys_id)
    assert await h.run(line.event("new")) == []  # no work order yet
    [task] = tasks(await h.run(wo_insert_for(command, oc.wo_id)))
    assert line_of(task) == line.sys_id
    assert await h.run(line.event("work_in_progress")) == []


async def test_a_second_work_order_gets_tasks_only_for_lines_without_one(store_harness: Harness) -> None:
    h = store_harness
    oc = OrderCase(h)
    kept, orphan = Line(oc.sys_id), Line(oc.sys_id)
    inserts = await oc.start((kept, "new"), (orphan, "new"))
    for command in inserts:
        await oc.confirm(command, kept if line_of(command) == kept.sys_id else orphan)
    # the line's task is the one linked: a second work order on the case leaves it alone
    act = make_event(
        "csm-case-action-create-work-order",
        table="sn_order_case",
        sys_id=oc.sys_id,
        sys_mod_count=1,
        record={"sys_class_name": "sn_order_case", "number": "ORDCS0001001"},
    )
    [command] = await h.run(act)
    second = new_sys_id()
    assert tasks(await h.run(wo_insert_for(command, second, number="WO0010002"))) == []
    # a new line goes to the newest open work order
    late = Line(oc.sys_id)
    [added] = await h.run(late.event("new"))
    assert added["fields"]["parent"] == second


async def test_a_line_on_a_case_without_a_work_order_or_closed_gets_no_task(store_harness: Harness) -> None:
    h = store_harness
    case_id = new_sys_id()
    await h.feed(order_case(case_id))
    assert await h.run(Line(case_id).event("new")) == []
    oc = OrderCase(h)
    await oc.start()
    await h.feed(order_case(oc.sys_id, 2, state="3"))  # closed
    assert await h.run(Line(oc.sys_id).event("new")) == []


async def test_the_link_already_written_is_the_one_used(store_harness: Harness) -> None:
    """A second task FSM reports for the same line and work order (the same correlation id) is
    not linked: the line's task stays the first one, and a cancel goes to it alone."""
    h = store_harness
    oc = OrderCase(h)
    line = Line(oc.sys_id)
    [task] = await oc.start((line, "new"))
    await oc.confirm(task, line)
    first = oc.task_of[line.sys_id]
    _, result = await h.outcomes(task_answer(task, "WOT0029999"))
    assert result.outcomes == {"in": 1, "unlinked": 1}
    [cancel] = await h.run(line.event("cancelled"))
    assert cancel["sys_id"] == first
