"""Keeping work orders right after creation.

* Account → company and contact → caller hold on every work order, whoever changed it: a change
  in FSM gets one update command; the bridge's own updates carry both already.
* Case changes reach the linked work orders per the mappings' sync policy (beyond the seeds,
  which never sync after creation). Closed or canceled work orders are never changed.
"""

from __future__ import annotations

from connectors.catalog import CASE_TABLE
from connectors.fsm import commands as fsm

from bridge.flows import Route, links
from bridge.flows.context import FlowContext, ref
from bridge.flows.work_orders import related_records

RULE_DERIVE = "work_order_derivation"
RULE_SYNC = "case_to_work_order_sync"
#: derived work-order field → the field it follows
FOLLOWS = {"company": "account", "caller": "contact"}


def _as_field_values(record: dict) -> dict[str, str]:
    """A contract-shaped record as command field values (references as bare sys_ids)."""
    return {k: str(v.get("value") or "") if isinstance(v, dict) else v
            for k, v in record.items() if isinstance(v, (str, dict))}


async def keep_derived_fields(ctx: FlowContext) -> None:
    """FSM changed a work order's account or contact: make company/caller follow."""
    if ctx.is_echo:
        return
    wo = ctx.event.record_dict()
    fix = {}
    for derived, source in FOLLOWS.items():
        if ctx.changed(source) and ref(wo, derived) != ref(wo, source):
            fix[derived] = ref(wo, source)
    if fix:
        ctx.emit(fsm.update("wm_order", ctx.event.sys_id, fix,
                            command_id=ctx.command_id(RULE_DERIVE), caused_by=ctx.caused_by),
                 rule=RULE_DERIVE)


async def sync_case_to_work_orders(ctx: FlowContext) -> None:
    """A case changed: send the changed mapped fields to its open work orders."""
    if ctx.is_echo or not ctx.event.changed_fields:
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
        fields = ctx.mappings.sync_fields(ctx.event.table, "wm_order", changed, state)
        if not fields:
            continue
        if any(source in fields for source in FOLLOWS.values()):
            related = related if related is not None else await related_records(ctx, case)
            derived = ctx.mappings.derive("wm_order", {**_as_field_values(dict(wo.data)),
                                                       **fields}, related)
            fields.update({k: v for k, v in derived.items()
                           if k in FOLLOWS and FOLLOWS[k] in fields})
        current = _as_field_values(dict(wo.data))
        fields = {k: v for k, v in fields.items() if current.get(k) != v}
        if fields:
            ctx.emit(fsm.update("wm_order", wo_id, fields,
                                command_id=ctx.command_id(RULE_SYNC, wo_id),
                                caused_by=ctx.caused_by), rule=RULE_SYNC)


ROUTES = [
    Route("wm_order", ("insert", "update"), keep_derived_fields),
    Route(CASE_TABLE, ("update",), sync_case_to_work_orders),
]
