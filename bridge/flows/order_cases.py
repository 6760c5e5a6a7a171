"""Order cases: a work order created from an order case carries one task per open order-case
line, and the tasks follow their lines.

* The work order the bridge creates from an order case gets a ``wm_task`` per open line; a line
  added later (or first seen later) gets its task on the case's newest open such work order.
* One task per line: a line that has a task on an open work order (or asked for one that FSM has
  not confirmed yet) never gets another. The line → task link written when FSM confirmed the
  task is the one every later decision uses.
* A line that is cancelled cancels its open task (with a note on the task saying why). If FSM
  confirms the task only after the line was cancelled, the task is cancelled then.
* A line resolved as accepted or denied says so in a note on the work order; the task stays as
  it is: the technician closes it.
"""

from __future__ import annotations

from bridge.flows import Route, links
from bridge.flows.context import FlowContext
from bridge.store.unit_of_work import PendingInsert, StoredRecord
from connectors.catalog import ORDER_CASE_TABLE, TABLES, lineage
from connectors.common import JournalElement
from connectors.common.values import ref, text
from connectors.fsm import commands as fsm

RULE_LINE_TASK = "order_line_task"
RULE_LINE_CANCEL = "order_line_task_canceled"
RULE_LINE_RESOLVED = "order_line_resolved"
CANCELLED = "cancelled"
RESOLVED_LINE_STATES = frozenset({"resolved_accepted", "resolved_denied"})
CLOSED_LINE_STATES = RESOLVED_LINE_STATES | {CANCELLED}
CANCELED_TASK = "canceled"


async def track_line(ctx: FlowContext) -> None:
    """Remember which order case a line belongs to (lines may arrive before their case)."""
    parent = ref(ctx.event.record_dict(), "parent")
    if parent:
        ctx.state.add_link(links.ORDER_CASE_LINE, parent, ctx.event.sys_id)
    previous_parent = ctx.previous.ref("parent") if ctx.previous else None
    if previous_parent and previous_parent != parent:
        ctx.state.remove_link(links.ORDER_CASE_LINE, previous_parent, ctx.event.sys_id)


async def open_lines(ctx: FlowContext, case_id: str) -> list[StoredRecord]:
    return [
        line
        for line in await ctx.state.linked_records(links.ORDER_CASE_LINE, case_id)
        if line.text("state") not in CLOSED_LINE_STATES
    ]


def _is_open(wo: StoredRecord | None) -> bool:
    """A work order not known to be closed (one asked for and not seen yet counts as open)."""
    return wo is None or (not wo.deleted and wo.text("state") not in links.CLOSED_WORK_ORDER_STATES)


async def line_tasks(ctx: FlowContext, line_id: str) -> list[StoredRecord]:
    """The tasks FSM confirmed for this line (the links written then), by sys_id."""
    return await ctx.state.linked_records(links.LINE_TASK, line_id)


async def _work_orders_of_line(ctx: FlowContext, line_id: str) -> list[str]:
    """The work orders holding a task of this line, or asked for one, by sys_id."""
    wo_ids = set(await ctx.state.linked(links.LINE_TASK_REQUESTED, line_id))
    wo_ids.update(t.ref("parent") or "" for t in await line_tasks(ctx, line_id))
    wo_ids.discard("")
    return sorted(wo_ids)


async def _has_task(ctx: FlowContext, line_id: str) -> bool:
    """Whether the line has a task (in any state) or asked for one, on an open work order."""
    for wo_id in await _work_orders_of_line(ctx, line_id):
        if _is_open(await ctx.state.record(wo_id)):
            return True
    return False


def _request_task(ctx: FlowContext, line: StoredRecord, wo_id: str, summary: str, *id_parts: str) -> None:
    correlation_id = line_task_correlation(wo_id, line.sys_id)
    command_id = ctx.command_id(RULE_LINE_TASK, line.sys_id, *id_parts)
    ctx.emit(
        fsm.insert(
            "wm_task",
            {
                "parent": wo_id,
                "state": "draft",
                "short_description": f"Order line {line.text('number') or line.sys_id}: {summary}"[:160],
            },
            command_id=command_id,
            correlation_id=correlation_id,
            caused_by=ctx.caused_by,
        ),
        rule=RULE_LINE_TASK,
    )
    ctx.state.remember_pending(PendingInsert(correlation_id, command_id, line.sys_id, RULE_LINE_TASK, "wm_task"))
    ctx.state.add_link(links.LINE_TASK_REQUESTED, line.sys_id, wo_id)


async def _summary(ctx: FlowContext, line: StoredRecord) -> str:
    """What the line asks for: quantity, product and ship-to of its order line item."""
    item = await ctx.state.record(line.ref("order_line_item"))
    product = item.text("product") if item else ""
    quantity = item.text("quantity") if item else ""
    ship_to = item.text("ship_to") if item else ""
    summary = " ".join(p for p in (f"{quantity} ×" if quantity else "", product) if p)
    return f"{summary} to {ship_to}" if ship_to else summary


async def create_line_tasks(ctx: FlowContext, case: StoredRecord, wo_id: str) -> None:
    """One ``wm_task`` insert per open line of an order case that has no task yet (product,
    quantity, ship-to); the work order then carries the case's later lines too."""
    if ORDER_CASE_TABLE in lineage(case.table):
        ctx.state.add_link(links.LINE_WORK_ORDER, case.sys_id, wo_id)
    for line in await open_lines(ctx, case.sys_id):
        if not await _has_task(ctx, line.sys_id):
            _request_task(ctx, line, wo_id, await _summary(ctx, line))


async def _newest_open_work_order(ctx: FlowContext, case_id: str) -> str | None:
    """The case's newest open work order that carries its lines (highest number): one the
    bridge created from the case, or one holding a task of another of its lines."""
    wo_ids = set(await ctx.state.linked(links.LINE_WORK_ORDER, case_id))
    for line_id in await ctx.state.linked(links.ORDER_CASE_LINE, case_id):
        wo_ids.update(t.ref("parent") or "" for t in await line_tasks(ctx, line_id))
    found = []
    for wo_id in wo_ids - {""}:
        wo = await ctx.state.record(wo_id)
        if wo is not None and _is_open(wo):
            found.append((wo.text("number"), wo_id))
    return max(found)[1] if found else None


async def line_news(ctx: FlowContext) -> None:
    """A line's changes reach its tasks: a new open line gets a task, a cancelled one cancels its
    open task, a resolved one is noted on the work order."""
    line = ctx.current
    if line is None or line.deleted:
        return
    state = line.text("state")
    entered = ctx.previous is None or ctx.previous.text("state") != state
    if state not in CLOSED_LINE_STATES:
        await _give_task(ctx, line)
    elif state == CANCELLED and entered:
        for task in await line_tasks(ctx, line.sys_id):
            await _cancel_task(ctx, line, task)
    elif state in RESOLVED_LINE_STATES and entered:
        await _note_resolved(ctx, line)


async def _give_task(ctx: FlowContext, line: StoredRecord) -> None:
    """An open line without a task gets one on its case's newest open work order, if any."""
    case = await ctx.state.record(line.ref("parent"))
    if case is None or case.deleted or case.text("state") in links.CASE_CLOSED_STATES:
        return
    if await _has_task(ctx, line.sys_id):
        return
    wo_id = await _newest_open_work_order(ctx, case.sys_id)
    if wo_id is not None:
        _request_task(ctx, line, wo_id, await _summary(ctx, line), wo_id)


async def _line_names(ctx: FlowContext, line: StoredRecord) -> dict[str, str]:
    case = await ctx.state.record(line.ref("parent"))
    return {
        "line_number": line.text("number") or line.sys_id,
        "case_number": case.text("number") if case is not None else line.text("parent"),
    }


async def _cancel_task(ctx: FlowContext, line: StoredRecord, task: StoredRecord) -> None:
    """Cancel the line's task unless it is closed already; the task's note says why."""
    if task.text("state") in links.CLOSED_WORK_ORDER_STATES:
        return
    journal: list[tuple[JournalElement, str]] = []
    rendered = ctx.mappings.render_note("order_line.task_canceled", await _line_names(ctx, line))
    if rendered is not None:
        journal.append((_element(rendered.element, "wm_task"), rendered.text))
    ctx.emit(
        fsm.update(
            "wm_task",
            task.sys_id,
            {"state": CANCELED_TASK},
            command_id=ctx.command_id(RULE_LINE_CANCEL, task.sys_id),
            caused_by=ctx.caused_by,
            journal=journal,
        ),
        rule=RULE_LINE_CANCEL,
    )


async def _note_resolved(ctx: FlowContext, line: StoredRecord) -> None:
    """A note on each open work order that holds (or was asked for) the line's task."""
    tasks = {t.ref("parent"): t for t in await line_tasks(ctx, line.sys_id)}
    names = await _line_names(ctx, line)
    for wo_id in await _work_orders_of_line(ctx, line.sys_id):
        wo = await ctx.state.record(wo_id)
        if wo is None or not _is_open(wo):
            continue
        task = tasks.get(wo_id)
        rendered = ctx.mappings.render_note(
            "order_line.resolved",
            {**names, "resolution": line.text("state"), "task_number": task.text("number") if task is not None else ""},
        )
        if rendered is None:
            continue
        ctx.emit(
            fsm.note(
                "wm_order",
                wo_id,
                rendered.text,
                element=_element(rendered.element, "wm_order"),
                command_id=ctx.command_id(RULE_LINE_RESOLVED, wo_id),
                caused_by=ctx.caused_by,
            ),
            rule=RULE_LINE_RESOLVED,
        )


def _element(element: JournalElement, table: str) -> JournalElement:
    """The template's journal element if the table has it, else its work notes."""
    return element if element in TABLES[table].journal else "work_notes"


def line_task_correlation(wo_id: str, line_id: str) -> str:
    """The correlation id of a line's task insert: it names the work order and the line."""
    return f"wo:{wo_id}:line:{line_id}"


def _line_of_correlation(correlation_id: str, wo_id: str) -> str | None:
    prefix = f"wo:{wo_id}:line:"
    line_id = correlation_id[len(prefix) :] if wo_id and correlation_id.startswith(prefix) else ""
    return line_id if len(line_id) == 32 else None


async def link_line_task(ctx: FlowContext) -> None:
    """FSM confirmed a line's task: link it to the line (the link every later decision uses). A
    line cancelled while the task was on its way cancels it now.

    The line is read from the insert's correlation id, ``wo:<work order>:line:<line>``: the
    pending insert found again in a later batch names the event that caused it (the work order
    or the line), not the line."""
    task = ctx.event.record_dict()
    correlation_id = text(task, "correlation_id")
    pending = ctx.state.pending_insert(correlation_id)
    line_id = _line_of_correlation(correlation_id, ref(task, "parent"))
    if pending is None or pending.rule != RULE_LINE_TASK or line_id is None:
        return
    wo_id = ref(task, "parent")
    if any(t.ref("parent") == wo_id and t.sys_id != ctx.event.sys_id for t in await line_tasks(ctx, line_id)):
        ctx.filtered("unlinked", "the line already has its task on this work order")
        return  # the link already written is the one used
    ctx.state.add_link(links.LINE_TASK, line_id, ctx.event.sys_id)
    line = await ctx.state.record(line_id)
    if line is not None and not line.deleted and line.text("state") == CANCELLED and ctx.current is not None:
        await _cancel_task(ctx, line, ctx.current)


ROUTES = [
    Route("sn_order_case_line", ("insert", "update"), track_line),
    Route("sn_order_case_line", ("insert", "update"), line_news),
    Route("wm_task", ("insert",), link_line_task),
]
