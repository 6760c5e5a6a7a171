"""Work-order fields derived from other records (the location), at creation and after.

The mappings' ``derived`` rules for ``wm_order`` may read related records (``{related: role,
field}``); the shipped one is the location rule: the affected CI's site (``cmdb_ci.location``),
else the caller's location (the case's contact's), else the case's own location. Creation
applies it (``work_orders.create_from_case``). After creation it is applied again to each open
work order of a case whenever one of its inputs changes:

* a case field that names a record the rules read (``cmdb_ci``, ``contact``) or that the rules
  read themselves (``location``): ``work_order_sync`` sends the new value with the synced fields;
* a field the rules read on such a record (a CI's site, a contact's location), or that record
  appearing or being deleted: events of different records come in any order, so a CI that
  arrives after the case naming it is read when it arrives (here);
* the work order being linked to its case: a work order FSM inserted for a case gets the rule
  like company and caller (``work_order_sync``), and ours is corrected once if an input changed
  while our insert was on its way (its insert echo is the first event that names it).

Closed and canceled work orders never change. A command is sent only when the derived value
differs from the one the work order will hold: its stored value, or, while a command of ours
that set it has not come back from FSM, the value that command sent (kept as a link
``work_order_sent_<field>``, wm_order → the value: a location's sys_id, or ``""`` for none,
until a work-order event shows it). Compared
with the stored value alone, a quick A → B → A of an input would be lost: B still on its way,
A looks like no change.

From a CI or a contact, the open work orders it feeds are one lookup of that record's links,
whatever the size of the store: each open work order keeps one link per case field naming a
record the rules read, ``work_order_input_<field>`` (wm_order → that record:
``work_order_input_cmdb_ci``, ``work_order_input_contact``), pointing where its case's field
points, whether the bridge knows that record yet or not. The links move with the case's fields
and are dropped when the work order closes or is deleted.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Mapping

from bridge.flows import Route, links
from bridge.flows.context import FlowContext
from bridge.flows.work_orders import ROLE_FIELDS, related_records
from bridge.mapping import MappingSet
from bridge.mapping.vocabulary import RELATED_ROLES
from bridge.store.unit_of_work import StoredRecord
from connectors.catalog import CASE_TABLE
from connectors.common.values import ref, sys_id_of
from connectors.fsm import commands as fsm

WORK_ORDER = "wm_order"
RULE_REDERIVE = "work_order_rederived"
#: every case field that may name a related record: the kinds of input link, for clean-up
_INPUT_FIELDS = tuple(sorted(set(ROLE_FIELDS.values())))
#: the tables of the records a case field may name (their events may change a derived value)
INPUT_TABLES = tuple(sorted({t for role, t in RELATED_ROLES.items() if role in ROLE_FIELDS and t}))


def input_kind(case_field: str) -> str:
    """The link kind wm_order → the record its case's ``case_field`` names."""
    return f"work_order_input_{case_field}"


@dataclass(frozen=True, slots=True)
class Input:
    """A record a case field names, as the work-order rules read it."""

    table: str | None  # its table
    fields: frozenset[str]  # the fields of it the rules read


def record_inputs(mappings: MappingSet) -> dict[str, Input]:
    """Case field → the record it names and what the work-order rules read of it."""
    out: dict[str, Input] = {}
    for role, fields in mappings.related_inputs(WORK_ORDER).items():
        field = ROLE_FIELDS.get(role)
        if field is not None:
            known = out.get(field)
            out[field] = Input(RELATED_ROLES.get(role), fields | known.fields if known is not None else fields)
    return out


def case_inputs(mappings: MappingSet) -> frozenset[str]:
    """The case fields whose change may change a derived work-order field."""
    own = mappings.related_inputs(WORK_ORDER).get("case", frozenset())
    return frozenset(record_inputs(mappings)) | own


def field_values(record: Mapping[str, Any]) -> dict[str, str]:
    """A contract-shaped record as command field values (references as bare sys_ids)."""
    return {k: sys_id_of(v) if isinstance(v, dict) else v for k, v in record.items() if isinstance(v, (str, dict))}


def is_open(wo: StoredRecord | None) -> bool:
    """Known, not deleted, not closed or canceled: a work order the bridge may still change."""
    return wo is not None and not wo.deleted and wo.text("state") not in links.CLOSED_WORK_ORDER_STATES


async def case_of(ctx: FlowContext, wo_id: str) -> StoredRecord | None:
    """The case the work order is linked to, if the bridge knows it."""
    cases = await ctx.state.linked_to_records(links.CASE_WORK_ORDER, wo_id)
    return cases[0] if cases else None


async def relink(ctx: FlowContext, wo_id: str, case: Mapping[str, Any]) -> None:
    """Point the open work order's input links where its case's fields point now."""
    for field in record_inputs(ctx.mappings):
        kind, target = input_kind(field), ref(case, field)
        for held in await ctx.state.linked(kind, wo_id):
            if held != target:
                ctx.state.remove_link(kind, wo_id, held)
        if target:
            ctx.state.add_link(kind, wo_id, target)


async def unlink(ctx: FlowContext, wo_id: str) -> None:
    """The work order changes no more: it feeds on nothing, expects nothing."""
    kinds = [input_kind(f) for f in _INPUT_FIELDS]
    kinds += [sent_kind(f) for f in ctx.mappings.related_derived(WORK_ORDER)]
    for kind in kinds:
        for held in await ctx.state.linked(kind, wo_id):
            ctx.state.remove_link(kind, wo_id, held)


async def inputs_of(ctx: FlowContext, case: Mapping[str, Any]) -> dict[str, dict[str, Any]]:
    """The related records the derived rules read, for this case."""
    return await related_records(ctx, case, ctx.mappings.related_inputs(WORK_ORDER))


def sent_kind(field: str) -> str:
    """The link kind wm_order → the value of ``field`` our newest command sent, until seen."""
    return f"work_order_sent_{field}"


async def derived_changes(
    ctx: FlowContext, wo_id: str, current: Mapping[str, str], related: Mapping[str, Mapping[str, Any]]
) -> dict[str, str]:
    """The derived fields that read related records, where they differ from what the work
    order will hold (``current``: its stored values)."""
    derived = ctx.mappings.derive_related(WORK_ORDER, current, related)
    changes = {}
    for field, value in derived.items():
        sent = await ctx.state.linked(sent_kind(field), wo_id)
        if (sent[0] if sent else current.get(field, "")) != value:
            changes[field] = value
    return changes


async def mark_sent(ctx: FlowContext, wo_id: str, changes: Mapping[str, str]) -> None:
    """A command of ours sets these derived fields: they will hold these values."""
    for field, value in changes.items():
        kind = sent_kind(field)
        for held in await ctx.state.linked(kind, wo_id):
            ctx.state.remove_link(kind, wo_id, held)
        ctx.state.add_link(kind, wo_id, value)


async def emit_changes(ctx: FlowContext, wo_id: str, changes: dict[str, str]) -> None:
    """Send the derived fields that change, rule ``work_order_rederived``."""
    if changes:
        ctx.emit(
            fsm.update(
                WORK_ORDER, wo_id, changes, command_id=ctx.command_id(RULE_REDERIVE, wo_id), caused_by=ctx.caused_by
            ),
            rule=RULE_REDERIVE,
        )
        await mark_sent(ctx, wo_id, changes)


async def linked_work_order(ctx: FlowContext, current: Mapping[str, str]) -> dict[str, str]:
    """FSM inserted a work order, now linked to its case (``work_orders``): keep its input
    links; its derived fields that differ from ``current`` (none for a closed one)."""
    wo_id = ctx.event.sys_id
    if current.get("state") in links.CLOSED_WORK_ORDER_STATES:
        return {}
    case = await case_of(ctx, wo_id)
    if case is None:
        return {}
    await relink(ctx, wo_id, case.data)
    return await derived_changes(ctx, wo_id, current, await inputs_of(ctx, case.data))


async def related_record_changed(ctx: FlowContext) -> None:
    """A CI, a contact (…) appeared, changed what the rules read, or went: the open work orders
    it feeds follow."""
    event = ctx.event
    feeds = [
        field
        for field, source in record_inputs(ctx.mappings).items()
        if source.table == event.table and _touches(ctx, source.fields)
    ]
    related_of: dict[str, dict[str, dict[str, Any]]] = {}
    done: set[str] = set()
    for field in feeds:
        kind = input_kind(field)
        for wo_id in await ctx.state.linked_to(kind, event.sys_id):
            if wo_id in done:
                continue
            done.add(wo_id)
            wo = await ctx.state.record(wo_id)
            if wo is None or not is_open(wo):
                await unlink(ctx, wo_id)  # closed before the bridge kept these links
                continue
            case = await case_of(ctx, wo_id)
            if case is None:
                continue
            if case.ref(field) != event.sys_id:
                await relink(ctx, wo_id, case.data)  # an old link: the case moved on
                continue
            if case.sys_id not in related_of:
                related_of[case.sys_id] = await inputs_of(ctx, case.data)
            await emit_changes(
                ctx, wo_id, await derived_changes(ctx, wo_id, field_values(wo.data), related_of[case.sys_id])
            )


def _touches(ctx: FlowContext, fields: frozenset[str]) -> bool:
    """Whether the event may change what the rules read: an insert or a delete, the first
    version the bridge sees, or a change of one of ``fields``."""
    event, previous = ctx.event, ctx.previous
    if event.operation != "update" or previous is None or previous.deleted:
        return True
    return any(f in event.changed_fields for f in fields)


async def case_inserted(ctx: FlowContext) -> None:
    """A case the bridge sees after work orders FSM linked to it (``initiated_from``): from
    now on they follow its inputs."""
    case = ctx.record
    related = None
    for wo_id in await ctx.state.linked(links.CASE_WORK_ORDER, ctx.event.sys_id):
        wo = await ctx.state.record(wo_id)
        if wo is None or not is_open(wo):
            continue
        await relink(ctx, wo_id, case)
        if ctx.is_echo:
            continue
        related = related if related is not None else await inputs_of(ctx, case)
        await emit_changes(ctx, wo_id, await derived_changes(ctx, wo_id, field_values(wo.data), related))


async def work_order_changed(ctx: FlowContext) -> None:
    """A value our command sent shows on the work order: it is no longer on its way. A work
    order closed, was canceled or deleted: its links go."""
    event, wo = ctx.event, field_values(ctx.event.record_dict())
    if event.operation == "delete" or wo.get("state") in links.CLOSED_WORK_ORDER_STATES:
        await unlink(ctx, event.sys_id)
        return
    for field in ctx.mappings.related_derived(WORK_ORDER):
        kind = sent_kind(field)
        for held in await ctx.state.linked(kind, event.sys_id):
            if held == wo.get(field, ""):
                ctx.state.remove_link(kind, event.sys_id, held)


ROUTES = [
    *(Route(table, ("insert", "update", "delete"), related_record_changed) for table in INPUT_TABLES),
    Route(CASE_TABLE, ("insert",), case_inserted),
    Route(WORK_ORDER, ("update", "delete"), work_order_changed),
]
