"""Case → ITSM: create incidents, problems, changes and requests from a case, and keep the
links between cases and their related records (rule R5's "which cases hold this record").

* ``create_*`` actions → one insert on ``itsm.commands`` with the case context the mappings
  choose; ``correlation_id`` = ``case:<sys_id>:<relation>:<sys_mod_count>``. ITSM's insert event
  brings it back: the record is linked and the case's field is set with a CSM update (a request
  instead names the case as its ``parent``).
* One incident, one problem, one change per case; any number of requests. A refused action gets a
  ``case.action_refused`` work note saying why, and nothing else happens.
* Records linked by CSM or ITSM themselves (a case field set, a request with a case ``parent``)
  are linked too; changing a case's field moves the link.
"""

from __future__ import annotations

from bridge.flows import Route, links
from bridge.flows.case_structure import read_only_major
from bridge.flows.context import FlowContext
from bridge.flows.note_routing import holders
from bridge.flows.related_kinds import (
    CREATE_ACTIONS,
    LABELS,
    RELATED_FIELDS,
    REQUEST,
    REQUEST_TABLE,
    related_kind,
    requested_kind,
)
from bridge.flows.work_orders import related_records as mapping_context
from bridge.store.unit_of_work import PendingInsert
from connectors.catalog import CASE_TABLE
from connectors.common.values import ref, text
from connectors.csm import commands as csm
from connectors.itsm import commands as itsm

RULE_LINKED = "related_record_linked"
RULE_REFUSED = "related_record_refused"


async def _refusal(ctx: FlowContext, relation: str) -> str | None:
    """Why this case may not get a new related record of this kind, or None."""
    event, case = ctx.event, ctx.record
    if case.get("state") in links.CASE_CLOSED_STATES:
        return "the case is closed or canceled"
    stored = await ctx.state.record(event.sys_id)
    major = await read_only_major(ctx.state, stored) if stored is not None else None
    if major is not None:
        return f"the case is a child of major case {major}: its related records are read-only"
    if relation == REQUEST:
        return None
    label = LABELS[relation]
    holding = ref(case, relation) or next(iter(await ctx.state.linked(related_kind(relation), event.sys_id)), "")
    if holding:
        held = await ctx.state.record(holding)
        number = held.text("number") if held is not None else text(case, relation)
        return f"the case already has {label} {number}".rstrip()
    if await ctx.state.linked(requested_kind(relation), event.sys_id):
        return f"a {label} was already requested for this case and is not confirmed yet"
    return None


async def create_related(ctx: FlowContext) -> None:
    """A ``create_incident`` / ``_problem`` / ``_change`` / ``_request`` action on a case."""
    event, case = ctx.event, ctx.record
    action = event.action or ""
    relation, table = CREATE_ACTIONS[action]
    reason = await _refusal(ctx, relation)
    result = None
    if reason is None:
        related = {**await mapping_context(ctx, case), "case": case}
        result = ctx.mappings.map_record(
            event.table, table, case, related, action_args=dict(event.action_args), sys_id=event.sys_id
        )
        reason = None if result is not None else f"no active map to {table} matches this case"
    if reason is not None or result is None:
        ctx.note(
            event.table, event.sys_id, "case.action_refused", {"action": action, "reason": reason}, rule=RULE_REFUSED
        )
        ctx.filtered("refused", reason or "")
        return
    fields = dict(result.fields)
    if table == REQUEST_TABLE:
        fields["parent"] = event.sys_id
    correlation_id = ctx.correlation_id(relation)
    command_id = ctx.command_id(action)
    ctx.emit(
        itsm.insert(table, fields, command_id=command_id, correlation_id=correlation_id, caused_by=ctx.caused_by),
        rule=action,
    )
    ctx.state.remember_pending(PendingInsert(correlation_id, command_id, event.sys_id, action, table))
    if relation != REQUEST:
        ctx.state.add_link(requested_kind(relation), event.sys_id, event.sys_id)
    ctx.detail = f"map {result.map_name}"


async def link_inserted(ctx: FlowContext) -> None:
    """ITSM inserted a record: link it to the case that asked for it (or its request parent)."""
    event, rec = ctx.event, ctx.event.record_dict()
    pending = ctx.state.pending_insert(text(rec, "correlation_id"))
    if pending is not None and pending.rule in CREATE_ACTIONS and pending.cause_sys_id:
        relation, case_id = CREATE_ACTIONS[pending.rule][0], pending.cause_sys_id
    elif event.table == REQUEST_TABLE and ref(rec, "parent"):
        relation, case_id = REQUEST, ref(rec, "parent")
    else:
        if not await holders(ctx.state, event.table, event.sys_id):
            ctx.filtered("unlinked", "not created for a case")
        return  # else a case named it first (its field set before ITSM's insert arrived)
    ctx.state.remove_link(requested_kind(relation), case_id, case_id)
    ctx.state.add_link(related_kind(relation), case_id, event.sys_id)
    case = await ctx.state.record(case_id)
    if relation == REQUEST or case is None or case.ref(relation) == event.sys_id:
        return
    ctx.emit(
        csm.update(
            case.table,
            case_id,
            {relation: event.sys_id},
            command_id=ctx.command_id(RULE_LINKED, case_id),
            caused_by=ctx.caused_by,
        ),
        rule=RULE_LINKED,
    )


async def track_request_parent(ctx: FlowContext) -> None:
    """A request's ``parent`` as ITSM reports it: link it, move the link when it changes."""
    new, old = ref(ctx.event.record_dict(), "parent"), ctx.previous.ref("parent") if ctx.previous else None
    if old and old != new:
        ctx.state.remove_link(related_kind(REQUEST), old, ctx.event.sys_id)
    if new:
        ctx.state.add_link(related_kind(REQUEST), new, ctx.event.sys_id)


async def track_case_fields(ctx: FlowContext) -> None:
    """The case's related fields as CSM reports them: link new values, move changed ones."""
    event, case = ctx.event, ctx.event.record_dict()
    for relation in RELATED_FIELDS:
        new = ref(case, relation)
        if not new and not (event.operation == "update" and relation in event.changed_fields):
            continue  # an empty field on an insert, or untouched: links made by echo stay
        kind = related_kind(relation)
        for held in await ctx.state.linked(kind, event.sys_id):
            if held != new:
                ctx.state.remove_link(kind, event.sys_id, held)
        if new:
            ctx.state.add_link(kind, event.sys_id, new)
            ctx.state.remove_link(requested_kind(relation), event.sys_id, event.sys_id)


ROUTES = [
    *(Route(CASE_TABLE, ("action",), create_related, action=a) for a in CREATE_ACTIONS),
    *(Route(t, ("insert",), link_inserted) for t in ("incident", "problem", "change_request", REQUEST_TABLE)),
    Route(REQUEST_TABLE, ("update",), track_request_parent),
    Route(CASE_TABLE, ("insert", "update"), track_case_fields),
]
