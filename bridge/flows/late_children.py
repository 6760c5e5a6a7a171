"""A child that joins a major case late: earlier related-record notes are not copied to it (as in
ServiceNow: no retroactive sync) unless ``routing.late_children_get_earlier_notes`` is on; then the
major case's earlier notes are replayed to it, through the same sync gate as live notes.

Either way each earlier update gets a routing decision for the new child, so ``bridge explain``
can say why the child did not see it.
"""

from __future__ import annotations

from typing import Any

from bridge.flows.context import FlowContext
from bridge.flows.note_routing import sync_gate
from bridge.flows.related_kinds import REQUEST, related_kind
from bridge.flows.routing_log import Decision, batch_decisions, record_decision
from bridge.store.unit_of_work import StoredRecord

RULE_REPLAY = "late_child_replay"
_FACTS = ("record_table", "record_sys_id", "record_number", "sys_mod_count", "event_id", "updated_on")


async def _holds_other(ctx: FlowContext, child: StoredRecord, row: dict[str, Any]) -> bool:
    """The child has its own, different record of the same type as the update's record."""
    for relation in row.get("relations", ()):
        if relation == REQUEST:
            continue
        own = await ctx.state.linked(related_kind(relation), child.sys_id)
        if own and row.get("record_sys_id") not in own:
            return True
    return False


async def child_joined(ctx: FlowContext, child: StoredRecord, major: StoredRecord) -> None:
    """Decide, for each note the major case got before, whether the new child gets it now."""
    policy = ctx.mappings.routing
    for row in await batch_decisions(ctx.state, major.sys_id):
        if not row.get("delivered") or row.get("via") or await _holds_other(ctx, child, row):
            continue
        relations = tuple(row.get("relations", ()))
        notes = tuple((key, dict(values)) for key, values in row.get("notes", ()))
        facts = {k: row.get(k) for k in _FACTS}
        if not policy.late_children_get_earlier_notes:
            rule, delivered = "late_child", False
        else:
            blocked = sync_gate(policy, relations, child)
            rule, delivered = blocked or "late_child_replayed", blocked is None
        if delivered:
            for i, (key, values) in enumerate(notes):
                ctx.note(
                    child.table, child.sys_id, key, values, rule=RULE_REPLAY, id_parts=(row["decision_id"], str(i))
                )
        record_decision(
            ctx,
            Decision(child.sys_id, rule, delivered, via=major.sys_id, relations=relations, notes=notes),
            facts,
            "late",
            row["decision_id"],
        )
