"""Resolution codes when a related record reaches an end state (rule R9, the seeds' codes).

``resolution_mode: suggest`` (default, as in ServiceNow, where the agent picks the code): a work
note names the code and the case is left alone. ``propose``: a CSM update sets the case to
Resolved with the code and close notes from the related record — never for an order case with an
open line, which gets the suggestion and the reason instead. Canceled, risk-accepted, duplicate
or unsuccessful ends produce no code.
"""

from __future__ import annotations

from dataclasses import dataclass

from bridge.flows.context import FlowContext
from bridge.flows.order_cases import open_lines
from bridge.flows.related_kinds import CASE_DONE_STATES
from bridge.store.unit_of_work import StoredRecord
from connectors.catalog import ORDER_CASE_TABLE, lineage
from connectors.common import Event
from connectors.common.values import text
from connectors.csm import commands as csm

FIXED_BY_PROBLEM = "Solved – Fixed by closing related PRB"
WORKAROUND_FROM_PROBLEM = "Solved – Workaround provided based on open PRB"
FIXED_BY_CHANGE = "Solved – Fixed by closing related Change Request"
FIXED_BY_INCIDENT = "Solved – Fixed by closing related Incident"
REQUEST_CLOSED_COMPLETE = "Solved – Related Request is Closed Complete"

RULE_SUGGEST = "resolution_suggested"
RULE_PROPOSE = "resolution_proposed"
RESOLVED = "6"

_PROBLEM_ENDS = frozenset({"106", "107"})
_INCIDENT_ENDS = frozenset({"6", "7"})
_CHANGE_SUCCESS = frozenset({"successful", "successful_issues"})
#: incident close codes that say the incident was not fixed (ServiceNow's usual choices)
_INCIDENT_UNFIXED_PREFIXES = ("not solved", "duplicate", "canceled", "cancelled")


@dataclass(frozen=True, slots=True)
class Resolution:
    code: str
    close_notes: str
    number: str


def _entered(event: Event, previous: StoredRecord | None, field: str, ends: frozenset[str]) -> bool:
    """The update moved ``field`` into one of ``ends`` (from outside them)."""
    new = text(event.record_dict(), field)
    old = previous.text(field) if previous is not None else ""
    return field in event.changed_fields and new in ends and old not in ends


def resolution_for(event: Event, previous: StoredRecord | None) -> Resolution | None:
    """The code this ITSM update earns the case, if any."""
    rec, table = event.record_dict(), event.table
    number = text(rec, "number")
    if table == "incident" and _entered(event, previous, "state", _INCIDENT_ENDS):
        if not text(rec, "close_code").strip().lower().startswith(_INCIDENT_UNFIXED_PREFIXES):
            return Resolution(FIXED_BY_INCIDENT, text(rec, "close_notes"), number)
    elif table == "problem":
        if _entered(event, previous, "state", _PROBLEM_ENDS):
            if text(rec, "resolution_code") == "fix_applied":
                return Resolution(FIXED_BY_PROBLEM, text(rec, "close_notes") or text(rec, "fix_notes"), number)
        elif (
            "workaround" in event.changed_fields and text(rec, "workaround") and text(rec, "state") not in _PROBLEM_ENDS
        ):
            return Resolution(WORKAROUND_FROM_PROBLEM, text(rec, "workaround"), number)
    elif table == "change_request" and _entered(event, previous, "state", frozenset({"3"})):
        if text(rec, "close_code") in _CHANGE_SUCCESS:
            return Resolution(FIXED_BY_CHANGE, text(rec, "close_notes"), number)
    elif table == "sc_request" and _entered(event, previous, "request_state", frozenset({"closed_complete"})):
        return Resolution(REQUEST_CLOSED_COMPLETE, f"Request {number} is Closed Complete", number)
    return None


async def apply_resolution(
    ctx: FlowContext, case: StoredRecord, found: Resolution, *, may_propose: bool
) -> dict[str, str]:
    """Suggest or propose ``found`` on ``case``; returns what was done (for the routing log)."""
    done = {"code": found.code}
    if case.text("state") in CASE_DONE_STATES:
        return {**done, "outcome": "case_already_resolved_or_closed"}
    if ctx.mappings.routing.resolution_mode == "propose" and may_propose:
        lines = await open_lines(ctx, case.sys_id) if ORDER_CASE_TABLE in lineage(case.table) else []
        if not lines:
            ctx.emit(
                csm.update(
                    case.table,
                    case.sys_id,
                    {"state": RESOLVED, "resolution_code": found.code, "close_notes": found.close_notes},
                    command_id=ctx.command_id(RULE_PROPOSE, case.sys_id),
                    caused_by=ctx.caused_by,
                ),
                rule=RULE_PROPOSE,
            )
            return {**done, "outcome": "proposed"}
        ctx.note(
            case.table,
            case.sys_id,
            "case.action_refused",
            {"action": "propose resolution", "reason": f"{len(lines)} order case line(s) still open"},
            rule=RULE_PROPOSE,
        )
        done["outcome"] = "suggested_open_lines"
    ctx.note(
        case.table, case.sys_id, "resolution.suggested", {"code": found.code, "number": found.number}, rule=RULE_SUGGEST
    )
    return {"outcome": "suggested", **done}
