"""Names the mapping YAML may use that are fixed by the code or the contract.

- `NOTE_KEYS`: the work-note keys the flows render, and the values each one supplies
  (a template may reference only these);
- `STATE_VALUES`: each table's state values from the contract (sync policies and label maps
  are checked against them);
- `RELATED_ROLES`: the roles of `related` records the flows pass to the engine, and their table
  (`None` when the contract does not describe that table, e.g. assets). `case` is the case
  itself (the source record of a case's maps); `caller` is the case's contact.
"""

from __future__ import annotations

NOTE_KEYS: dict[str, frozenset[str]] = {
    key: frozenset(values.split())
    for key, values in {
        "work_order.created": "wo_number case_number",
        "work_order.state_changed": "wo_number old_state new_state",
        "work_order.work_note": "wo_number author text",
        "work_order.closed": "wo_number state close_notes",
        "work_order.all_closed": "case_number count summary",
        "work_order_task.state_changed": "task_number wo_number new_state",
        "work_order_task.work_note": "task_number wo_number author text",
        "work_order_task.comment": "task_number wo_number author text",
        "order_line.resolved": "line_number case_number resolution task_number",
        "order_line.task_canceled": "line_number case_number",
        "case.action_refused": "action reason",
        "incident.state_changed": "number old_state new_state hold_reason",
        "incident.resolved": "number state close_code close_notes",
        "incident.comment": "number author text",
        "problem.state_changed": "number new_state",
        "problem.workaround": "number workaround",
        "problem.fix": "number fix_notes",
        "problem.closed.fix_applied": "number cause_notes fix_notes",
        "problem.closed.risk_accepted": "number cause_notes close_notes fix_notes",
        "problem.closed.canceled": "number close_notes",
        "change.state_changed": "number old_state new_state",
        "change.type_changed": "number type",
        "change.on_hold": "number on_hold_reason",
        "change.hold_released": "number",
        "change.closed": "number close_code close_notes",
        "change.comment": "number author text",
        "request.state_changed": "number new_state",
        "request.closed": "number new_state",
        "request.comment": "number author text",
        "resolution.suggested": "code number",
    }.items()
}

#: The table whose events produce each note-key family (used by `render` to explain events).
NOTE_FAMILY_TABLE: dict[str, str] = {
    "work_order": "wm_order",
    "work_order_task": "wm_task",
    "order_line": "sn_order_case_line",
    "incident": "incident",
    "problem": "problem",
    "change": "change_request",
    "request": "sc_request",
    "case": "sn_customerservice_case",
}

_WO_STATES = frozenset(
    {
        "draft",
        "ready_for_dispatch",
        "assigned",
        "accepted",
        "work_in_progress",
        "closed_complete",
        "closed_incomplete",
        "canceled",
    }
)
STATE_VALUES: dict[str, frozenset[str]] = {
    "sn_customerservice_case": frozenset({"1", "10", "18", "6", "3", "7"}),
    "sn_order_case": frozenset({"1", "10", "18", "6", "3", "7"}),
    "wm_order": _WO_STATES,
    "wm_task": _WO_STATES,
    "incident": frozenset({"1", "2", "3", "6", "7", "8"}),
    "problem": frozenset({"101", "102", "103", "104", "106", "107"}),
    "change_request": frozenset({"-5", "-4", "-3", "-2", "-1", "0", "3", "4"}),
    "sc_request": frozenset(
        {"requested", "in_process", "closed_complete", "closed_incomplete", "closed_cancelled", "closed_rejected"}
    ),
    "sn_order_case_line": frozenset(
        {"draft", "new", "work_in_progress", "awaiting_info", "resolved_accepted", "resolved_denied", "cancelled"}
    ),
}

RELATED_ROLES: dict[str, str | None] = {
    "case": "sn_customerservice_case",
    "account": "customer_account",
    "contact": "customer_contact",
    "caller": "customer_contact",
    "consumer": "csm_consumer",
    "partner": "customer_account",
    "partner_contact": "customer_contact",
    "cmdb_ci": "cmdb_ci",
    "asset": None,
    "location": None,
}

#: The actions that create a record, and the table each creates (`render` and the YAML tests).
ACTION_TARGETS: dict[str, str] = {
    "create_work_order": "wm_order",
    "create_incident": "incident",
    "create_problem": "problem",
    "create_change": "change_request",
    "create_request": "sc_request",
}

#: Routing rule R6: syncing `state` needs these too.
STATE_COMPANIONS = ("close_notes", "resolution_code")
