"""Case → work order: creation with the case's context, and linking FSM's work orders back.

Creation follows the active table map (see ``bridge.mapping``); the insert command's
``correlation_id`` (``case:<sys_id>:wo:<n>``) brings FSM's insert event back to the case. A work
order FSM creates on its own with ``initiated_from`` set to a case is linked the same way.
"""

from __future__ import annotations

from typing import Any, Collection, Mapping

from bridge.flows import Route, links, order_cases
from bridge.flows.context import FlowContext
from bridge.store.unit_of_work import PendingInsert
from connectors.catalog import CASE_TABLE
from connectors.common.values import ref, text
from connectors.fsm import commands as fsm

RULE_CREATE = "create_work_order"

#: The related records the mappings may read, by role: the case field that names each (the
#: caller is the case's contact). The case itself is the role ``case``.
ROLE_FIELDS: dict[str, str] = {
    "contact": "contact",
    "caller": "contact",
    "account": "account",
    "cmdb_ci": "cmdb_ci",
    "consumer": "consumer",
}


async def related_records(
    ctx: FlowContext, record: Mapping[str, Any], roles: Collection[str] | None = None
) -> dict[str, dict[str, Any]]:
    """Records the mappings may use, as far as the store knows them: the case itself
    (``case``) and the records its fields name (a deleted or unknown one is left out: a derived
    rule falls through to its next candidate); only ``roles`` when given."""
    related: dict[str, dict[str, Any]] = {"case": dict(record)}
    for role, field in ROLE_FIELDS.items():
        if roles is not None and role not in roles:
            continue
        stored = await ctx.state.record(ref(record, field))
        if stored is not None and not stored.deleted:
            related[role] = dict(stored.data)
    return related


async def create_from_case(ctx: FlowContext) -> None:
    event, case = ctx.event, ctx.record
    if case.get("state") in links.CASE_CLOSED_STATES:
        ctx.note(
            event.table,
            event.sys_id,
            "case.action_refused",
            {"action": "create_work_order", "reason": "the case is closed or canceled"},
            rule=RULE_CREATE,
        )
        ctx.filtered("refused", "case closed or canceled")
        return
    result = ctx.mappings.map_record(event.table, "wm_order", case, await related_records(ctx, case))
    if result is None:
        ctx.note(
            event.table,
            event.sys_id,
            "case.action_refused",
            {"action": "create_work_order", "reason": "no active work-order map matches"},
            rule=RULE_CREATE,
        )
        ctx.filtered("refused", "no table map matched")
        return
    fields = {"state": "draft", **result.fields, "initiated_from": event.sys_id}
    correlation_id = ctx.correlation_id("wo")
    command_id = ctx.command_id(RULE_CREATE)
    ctx.emit(
        fsm.insert("wm_order", fields, command_id=command_id, correlation_id=correlation_id, caused_by=ctx.caused_by),
        rule=RULE_CREATE,
    )
    ctx.state.remember_pending(PendingInsert(correlation_id, command_id, event.sys_id, RULE_CREATE, "wm_order"))
    ctx.detail = f"map {result.map_name}"


async def link_inserted_work_order(ctx: FlowContext) -> None:
    """FSM inserted a work order: link it to its case (ours by correlation, or initiated_from)."""
    event, wo = ctx.event, ctx.event.record_dict()
    pending = ctx.state.pending_insert(text(wo, "correlation_id"))
    case_id = (pending.cause_sys_id if pending else None) or ref(wo, "initiated_from")
    if not case_id:
        ctx.filtered("unlinked", "work order not initiated from a case")
        return
    if not ctx.state.add_link(links.CASE_WORK_ORDER, case_id, event.sys_id):
        return
    case = await ctx.state.record(case_id)
    if case is None:
        ctx.filtered("unlinked", "initiated_from a case the bridge has not seen")
        return
    ctx.note(
        case.table,
        case_id,
        "work_order.created",
        {"wo_number": text(wo, "number"), "case_number": case.text("number")},
        rule="work_order_linked",
    )
    if pending is not None and pending.rule == RULE_CREATE:
        await order_cases.create_line_tasks(ctx, case, event.sys_id)


ROUTES = [
    Route(CASE_TABLE, ("action",), create_from_case, action="create_work_order"),
    Route("wm_order", ("insert",), link_inserted_work_order),
]
