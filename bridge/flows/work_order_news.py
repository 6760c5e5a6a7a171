"""Work-order news on the case: state changes, technician notes, task progress, closing.

Notes use the mappings' templates (``work_order.*``); whether a note is a customer-visible
comment is the template's choice. When the last open work order of a case closes, the case gets
a summary note.
"""

from __future__ import annotations

from bridge.flows import Route, links
from bridge.flows.context import FlowContext, ref, text
from bridge.store.unit_of_work import StoredRecord

RULE_NEWS = "work_order_news"


async def _cases_of(ctx: FlowContext, wo_id: str) -> list[StoredRecord]:
    cases = []
    for case_id in await ctx.state.linked_to(links.CASE_WORK_ORDER, wo_id):
        case = await ctx.state.record(case_id)
        if case is not None and not case.deleted:
            cases.append(case)
    return cases


async def work_order_news(ctx: FlowContext) -> None:
    event, wo = ctx.event, ctx.event.record_dict()
    cases = await _cases_of(ctx, event.sys_id)
    if not cases:
        return
    number = text(wo, "number")
    new_state = text(wo, "state")
    old_state = ctx.previous.text("state") if ctx.previous else ""
    state_changed = "state" in event.changed_fields and new_state != old_state
    for case in cases:
        for i, entry in enumerate(event.journal):
            if entry.element == "work_notes":
                ctx.note(case.table, case.sys_id, "work_order.work_note",
                         {"wo_number": number, "author": entry.sys_created_by, "text": entry.value},
                         rule=RULE_NEWS, id_parts=("note", str(i)))
        if not state_changed:
            continue
        if new_state in links.CLOSED_WORK_ORDER_STATES:
            ctx.note(case.table, case.sys_id, "work_order.closed",
                     {"wo_number": number, "state": new_state,
                      "close_notes": text(wo, "close_notes")}, rule=RULE_NEWS)
            await _summary_when_all_closed(ctx, case)
        else:
            ctx.note(case.table, case.sys_id, "work_order.state_changed",
                     {"wo_number": number, "old_state": old_state, "new_state": new_state},
                     rule=RULE_NEWS)


async def _summary_when_all_closed(ctx: FlowContext, case: StoredRecord) -> None:
    states = []
    for wo_id in await ctx.state.linked(links.CASE_WORK_ORDER, case.sys_id):
        wo = await ctx.state.record(wo_id)
        if wo is not None:
            states.append((wo.text("number"), wo.text("state")))
    if all(state in links.CLOSED_WORK_ORDER_STATES for _, state in states):
        summary = ", ".join(f"{number}: {state}" for number, state in sorted(states))
        ctx.note(case.table, case.sys_id, "work_order.all_closed",
                 {"case_number": case.text("number"), "count": str(len(states)),
                  "summary": summary}, rule=RULE_NEWS, id_parts=("all_closed",))


async def task_news(ctx: FlowContext) -> None:
    """Tasks: link them to their work order; their state changes reach the case."""
    event, task = ctx.event, ctx.event.record_dict()
    wo_id = ref(task, "parent")
    if not wo_id:
        return
    ctx.state.add_link(links.WORK_ORDER_TASK, wo_id, event.sys_id)
    new_state = text(task, "state")
    if event.operation != "update" or "state" not in event.changed_fields:
        return
    wo = await ctx.state.record(wo_id)
    for case in await _cases_of(ctx, wo_id):
        ctx.note(case.table, case.sys_id, "work_order_task.state_changed",
                 {"task_number": text(task, "number"),
                  "wo_number": wo.text("number") if wo else "", "new_state": new_state},
                 rule=RULE_NEWS)


ROUTES = [
    Route("wm_order", ("update",), work_order_news),
    Route("wm_task", ("insert", "update"), task_news),
]
