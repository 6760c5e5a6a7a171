"""Keeping work orders right after creation.

* Account → company and contact → caller hold on every work order, whoever changed it: a change
  in FSM gets one update command; the bridge's own updates carry both already.
* Case changes reach the linked work orders per the mappings' sync policy (beyond the seeds,
  which never sync after creation). Closed or canceled work orders are never changed.
* The location follows its rule (``work_order_inputs``): a change of the case's CI, contact or
  location derives it again, sent with the synced fields as one patch; a work order FSM inserted
  for a case gets it with company and caller.
"""

from __future__ import annotations

from bridge.flows import Route, links, work_order_inputs
from bridge.flows.context import FlowContext
from bridge.flows.work_order_inputs import field_values
from connectors.catalog import CASE_TABLE
from connectors.common.values import ref
from connectors.fsm import commands as fsm

RULE_DERIVE = "work_order_derivation"
RULE_SYNC = "case_to_work_order_sync"
#: derived work-order field → the field it follows
FOLLOWS = {"company": "account", "caller": "contact"}


async def keep_derived_fields(ctx: FlowContext) -> None:
    """FSM changed a work order's account or contact: make company/caller follow. A work order
    FSM inserted for a case gets its location too (one correction of ours: see
    ``work_order_inputs``)."""
    wo = ctx.event.record_dict()
    fix = {}
    if not ctx.is_echo:
        for derived, source in FOLLOWS.items():
            if ctx.changed(source) and ref(wo, derived) != ref(wo, source):
                fix[derived] = ref(wo, source)
    located = {}
    if ctx.event.operation == "insert":
        located = await work_order_inputs.linked_work_order(ctx, {**field_values(wo), **fix})
    if fix or located:
        ctx.emit(
            fsm.update(
                "wm_order",
                ctx.event.sys_id,
                {**fix, **located},
                command_id=ctx.command_id(RULE_DERIVE),
                caused_by=ctx.caused_by,
            ),
            rule=RULE_DERIVE,
        )
        await work_order_inputs.mark_sent(ctx, ctx.event.sys_id, located)


async def sync_case_to_work_orders(ctx: FlowContext) -> None:
    """A case changed: send the changed mapped fields, and the derived fields whose inputs
    changed, to its open work orders (whose input links follow the case's fields)."""
    if not ctx.event.changed_fields:
        return
    inputs_changed = not work_order_inputs.case_inputs(ctx.mappings).isdisjoint(ctx.event.changed_fields)
    if ctx.is_echo and not inputs_changed:
        return
    case = ctx.event.record_dict()
    changed = {f: case.get(f, "") for f in ctx.event.changed_fields}
    related = None
    for wo_id in await ctx.state.linked(links.CASE_WORK_ORDER, ctx.event.sys_id):
        wo = await ctx.state.record(wo_id)
        if wo is None or wo.deleted:
            continue
        state = wo.text("state")
        if state in links.CLOSED_WORK_ORDER_STATES:
            ctx.state.count("sync.skipped_closed_work_order")
            continue
        await work_order_inputs.relink(ctx, wo_id, case)
        if ctx.is_echo:
            continue
        current = field_values(wo.data)
        fields = ctx.mappings.sync_fields(ctx.event.table, "wm_order", changed, state)
        if any(source in fields for source in FOLLOWS.values()):
            derived = ctx.mappings.derive("wm_order", {**current, **fields})
            fields.update({k: v for k, v in derived.items() if k in FOLLOWS and FOLLOWS[k] in fields})
        fields = {k: v for k, v in fields.items() if current.get(k) != v}
        located = {}
        if inputs_changed:
            related = related if related is not None else await work_order_inputs.inputs_of(ctx, case)
            located = await work_order_inputs.derived_changes(ctx, wo_id, {**current, **fields}, related)
        if fields or located:
            ctx.emit(
                fsm.update(
                    "wm_order",
                    wo_id,
                    {**fields, **located},
                    command_id=ctx.command_id(RULE_SYNC, wo_id),
                    caused_by=ctx.caused_by,
                ),
                rule=RULE_SYNC,
            )
            await work_order_inputs.mark_sent(ctx, wo_id, located)


ROUTES = [
    Route("wm_order", ("insert", "update"), keep_derived_fields),
    Route(CASE_TABLE, ("update",), sync_case_to_work_orders),
]
