"""Order cases: a work order created from an order case gets one task per open order-case line."""

from __future__ import annotations

from connectors.fsm import commands as fsm

from bridge.flows import Route, links
from bridge.flows.context import FlowContext, ref, text
from bridge.store.unit_of_work import PendingInsert, StoredRecord

RULE_LINE_TASK = "order_line_task"
CLOSED_LINE_STATES = frozenset({"resolved_accepted", "resolved_denied", "cancelled"})


async def track_line(ctx: FlowContext) -> None:
    """Remember which order case a line belongs to (lines may arrive before their case)."""
    parent = ref(ctx.event.record_dict(), "parent")
    if parent:
        ctx.state.add_link(links.ORDER_CASE_LINE, parent, ctx.event.sys_id)
    previous_parent = ctx.previous.ref("parent") if ctx.previous else None
    if previous_parent and previous_parent != parent:
        ctx.state.remove_link(links.ORDER_CASE_LINE, previous_parent, ctx.event.sys_id)


async def open_lines(ctx: FlowContext, case_id: str) -> list[StoredRecord]:
    lines = []
    for line_id in await ctx.state.linked(links.ORDER_CASE_LINE, case_id):
        line = await ctx.state.record(line_id)
        if line is not None and not line.deleted and line.text("state") not in CLOSED_LINE_STATES:
            lines.append(line)
    return lines


async def create_line_tasks(ctx: FlowContext, case: StoredRecord, wo_id: str) -> None:
    """One ``wm_task`` insert per open line of an order case (product, quantity, ship-to)."""
    for line in await open_lines(ctx, case.sys_id):
        item = await ctx.state.record(line.ref("order_line_item"))
        product = item.text("product") if item else ""
        quantity = item.text("quantity") if item else ""
        ship_to = item.text("ship_to") if item else ""
        summary = " ".join(p for p in (f"{quantity} ×" if quantity else "", product) if p)
        if ship_to:
            summary += f" to {ship_to}"
        correlation_id = f"wo:{wo_id}:line:{line.sys_id}"
        command_id = ctx.command_id(RULE_LINE_TASK, line.sys_id)
        ctx.emit(fsm.insert(
            "wm_task",
            {"parent": wo_id, "state": "draft",
             "short_description": f"Order line {line.text('number') or line.sys_id}: {summary}"[:160]},
            command_id=command_id, correlation_id=correlation_id, caused_by=ctx.caused_by,
        ), rule=RULE_LINE_TASK)
        ctx.state.remember_pending(PendingInsert(correlation_id, command_id, line.sys_id,
                                                 RULE_LINE_TASK, "wm_task"))


async def link_line_task(ctx: FlowContext) -> None:
    pending = ctx.state.pending_insert(text(ctx.event.record_dict(), "correlation_id"))
    if pending is not None and pending.rule == RULE_LINE_TASK and pending.cause_sys_id:
        ctx.state.add_link(links.LINE_TASK, pending.cause_sys_id, ctx.event.sys_id)


ROUTES = [
    Route("sn_order_case_line", ("insert", "update"), track_line),
    Route("wm_task", ("insert",), link_line_task),
]
