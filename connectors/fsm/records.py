"""FSM record models, one per contract table (`shared/contracts/README.md`, "FSM")."""

from __future__ import annotations

from typing import Final

from connectors.common.records import Record, RefField


class WorkOrderRecord(Record):
    """`wm_order`: a field service work order; `initiated_from` is the case."""

    number: str = ""
    state: str = ""
    priority: str = ""
    initiated_from: RefField = None
    account: RefField = None
    consumer: RefField = None
    contact: RefField = None
    asset: RefField = None
    partner: RefField = None
    partner_contact: RefField = None
    company: RefField = None
    caller: RefField = None
    location: RefField = None
    cmdb_ci: RefField = None
    short_description: str = ""
    description: str = ""
    correlation_id: str = ""
    work_notes: str = ""


class WorkOrderTaskRecord(Record):
    """`wm_task`: a task of a work order (`parent`)."""

    number: str = ""
    parent: RefField = None
    state: str = ""
    short_description: str = ""
    assigned_to: RefField = None
    expected_start: str = ""
    actual_end: str = ""
    work_notes: str = ""
    comments: str = ""


#: Table name → record model for every FSM table.
RECORD_MODELS: Final[dict[str, type[Record]]] = {
    "wm_order": WorkOrderRecord,
    "wm_task": WorkOrderTaskRecord,
}
