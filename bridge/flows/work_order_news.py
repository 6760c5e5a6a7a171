"""Work-order news on the case: state changes, technician notes, task notes and progress, closing.

A technician's work note or comment on a work order task becomes a case work note naming the task
and its work order, like a work order's own notes. An echo's journal is the text of the bridge's
own command (e.g. an order line's note on the work order): it is not passed back. Records arrive
in any order: a task's notes that come before its work order is linked to a known case wait on
the work order (links ``held_task_note``) and reach the case when it is.

Notes use the mappings' templates (``work_order.*``, ``work_order_task.*``); whether a note is a
customer-visible comment is the template's choice. When the last open work order of a case
closes, the case gets a summary note.
"""

from __future__ import annotations

from bridge.flows import Route, links
from bridge.flows.context import FlowContext
from bridge.flows.routing_log import utc_text
from bridge.store.unit_of_work import StoredRecord
from connectors.catalog import CASE_TABLE
from connectors.common.values import ref, text

RULE_NEWS = "work_order_news"
RULE_HELD = "task_note_held"


async def _cases_of(ctx: FlowContext, wo_id: str) -> list[StoredRecord]:
    return await ctx.state.linked_to_records(links.CASE_WORK_ORDER, wo_id)


async def work_order_news(ctx: FlowContext) -> None:
    event, wo = ctx.event, ctx.event.record_dict()
    cases = await _cases_of(ctx, event.sys_id)
    if not cases:
        return
    number = text(wo, "number")
    new_state = text(wo, "state")
    old_state = ctx.previous.text("state") if ctx.previous else ""
    state_changed = "state" in event.changed_fields and new_state != old_state
    # An echo's journal is the text of our own command (a note the bridge wrote): not news.
    journal = () if ctx.is_echo else event.journal
    for case in cases:
        for i, entry in enumerate(journal):
            if entry.element == "work_notes":
                ctx.note(
                    case.table,
                    case.sys_id,
                    "work_order.work_note",
                    {"wo_number": number, "author": entry.sys_created_by, "text": entry.value},
                    rule=RULE_NEWS,
                    id_parts=("note", str(i)),
                )
        if not state_changed:
            continue
        if new_state in links.CLOSED_WORK_ORDER_STATES:
            ctx.note(
                case.table,
                case.sys_id,
                "work_order.closed",
                {"wo_number": number, "state": new_state, "close_notes": text(wo, "close_notes")},
                rule=RULE_NEWS,
            )
            await _summary_when_all_closed(ctx, case)
        else:
            ctx.note(
                case.table,
                case.sys_id,
                "work_order.state_changed",
                {"wo_number": number, "old_state": old_state, "new_state": new_state},
                rule=RULE_NEWS,
            )


async def _summary_when_all_closed(ctx: FlowContext, case: StoredRecord) -> None:
    states = []
    for wo_id in await ctx.state.linked(links.CASE_WORK_ORDER, case.sys_id):
        wo = await ctx.state.record(wo_id)
        if wo is not None:
            states.append((wo.text("number"), wo.text("state")))
    if all(state in links.CLOSED_WORK_ORDER_STATES for _, state in states):
        summary = ", ".join(f"{number}: {state}" for number, state in sorted(states))
        ctx.note(
            case.table,
            case.sys_id,
            "work_order.all_closed",
            {"case_number": case.text("number"), "count": str(len(states)), "summary": summary},
            rule=RULE_NEWS,
            id_parts=("all_closed",),
        )


#: the case note each journal element of a task becomes (work notes on the case by default)
TASK_JOURNAL_NOTES = {"work_notes": "work_order_task.work_note", "comments": "work_order_task.comment"}


async def task_news(ctx: FlowContext) -> None:
    """Tasks: link them to their work order; the technician's work notes and comments and the
    task's state changes reach the work order's cases, naming the task and the work order.
    While the work order has no case the bridge knows (its insert, or its case's, has not
    arrived yet: records come in any order), the notes wait on the work order."""
    event, task = ctx.event, ctx.event.record_dict()
    wo_id = ref(task, "parent")
    old_wo = ctx.previous.ref("parent") if ctx.previous is not None else None
    if old_wo and old_wo != wo_id:
        ctx.state.remove_link(links.WORK_ORDER_TASK, old_wo, event.sys_id)
    if not wo_id:
        return
    ctx.state.add_link(links.WORK_ORDER_TASK, wo_id, event.sys_id)
    # An echo's journal is the text of our own command: it is not news.
    journal = () if ctx.is_echo else event.journal
    wo = await ctx.state.record(wo_id)
    names = {
        "task_number": text(task, "number"),
        "wo_number": wo.text("number") if wo is not None else text(task, "parent"),
    }
    notes = [
        (TASK_JOURNAL_NOTES[entry.element], {**names, "author": entry.sys_created_by, "text": entry.value})
        for entry in journal
        if entry.element in TASK_JOURNAL_NOTES
    ]
    if event.operation == "update" and "state" in event.changed_fields:
        notes.append(("work_order_task.state_changed", {**names, "new_state": text(task, "state")}))
    if not notes:
        return
    # The event's outcome stays "applied" either way: an outcome that depended on which record
    # arrived first would make a reordered delivery's store differ from the ordered one's.
    cases = await _cases_of(ctx, wo_id)
    if not cases and wo is not None and not await ctx.state.linked_to(links.CASE_WORK_ORDER, wo_id):
        return  # a work order not from a case: its tasks' news concern no case
    if not cases:
        for i, (key, values) in enumerate(notes):
            note_id = ctx.command_id(RULE_HELD, str(i)).replace("-", "")
            ctx.state.add_link(
                links.HELD_TASK_NOTE,
                note_id,
                wo_id,
                key=key,
                values=values,
                order=[event.sys_mod_count, i],
                task=event.sys_id,
            )
        return
    for case in cases:
        for i, (key, values) in enumerate(notes):
            ctx.note(case.table, case.sys_id, key, values, rule=RULE_NEWS, id_parts=("note", str(i)))


async def deliver_held_notes(ctx: FlowContext, wo_ids: list[str]) -> None:
    """Task notes that waited for these work orders' cases, to the cases now known (in the
    order the tasks made them); each is delivered once. A work order known to have no case
    drops them."""
    for wo_id in wo_ids:
        if not await ctx.state.linked_to(links.HELD_TASK_NOTE, wo_id):
            continue  # the usual case, read from the edges already loaded
        cases = await _cases_of(ctx, wo_id)
        unlinked = not await ctx.state.linked_to(links.CASE_WORK_ORDER, wo_id)
        if not cases and not unlinked:
            continue  # its case is still to come
        held = sorted(
            await ctx.state.links_into(links.HELD_TASK_NOTE, wo_id),
            key=lambda h: (utc_text(h[2]), str(h[1].get("task", "")), h[1].get("order", []), h[0]),
        )
        for note_id, attrs, _ in held:
            ctx.state.remove_link(links.HELD_TASK_NOTE, note_id, wo_id)
            key, values = attrs.get("key"), attrs.get("values")
            if not isinstance(key, str) or not isinstance(values, dict):
                continue
            for case in cases:
                ctx.note(case.table, case.sys_id, key, values, rule=RULE_NEWS, id_parts=("held", note_id))


async def work_order_linked(ctx: FlowContext) -> None:
    """A work order's insert (linked to its case by ``work_orders`` just before): the notes its
    tasks left while it was not known."""
    await deliver_held_notes(ctx, [ctx.event.sys_id])


async def case_first_seen(ctx: FlowContext) -> None:
    """A case the bridge sees for the first time may have work orders linked before it came."""
    if ctx.previous is None:
        await deliver_held_notes(ctx, await ctx.state.linked(links.CASE_WORK_ORDER, ctx.event.sys_id))


ROUTES = [
    Route("wm_order", ("insert",), work_order_linked),
    Route("wm_order", ("update",), work_order_news),
    Route("wm_task", ("insert", "update"), task_news),
    Route(CASE_TABLE, ("insert", "update"), case_first_seen),
]
