"""ITSM record models, one per contract table (`shared/contracts/README.md`, "ITSM")."""

from __future__ import annotations

from typing import Final

from connectors.common.records import Record, RefField


class IncidentRecord(Record):
    """`incident`."""

    number: str = ""
    state: str = ""
    hold_reason: str = ""
    close_code: str = ""
    close_notes: str = ""
    priority: str = ""
    impact: str = ""
    urgency: str = ""
    short_description: str = ""
    description: str = ""
    caller_id: RefField = None
    company: RefField = None
    correlation_id: str = ""
    comments: str = ""
    work_notes: str = ""


class ProblemRecord(Record):
    """`problem`; "Communicate Workaround/Fix" are updates of `workaround` / `fix_notes`."""

    number: str = ""
    state: str = ""
    resolution_code: str = ""
    workaround: str = ""
    fix_notes: str = ""
    cause_notes: str = ""
    close_notes: str = ""
    short_description: str = ""
    correlation_id: str = ""
    comments: str = ""
    work_notes: str = ""


class ChangeRequestRecord(Record):
    """`change_request`."""

    number: str = ""
    type: str = ""
    state: str = ""
    on_hold: str = ""
    on_hold_reason: str = ""
    close_code: str = ""
    close_notes: str = ""
    short_description: str = ""
    correlation_id: str = ""
    comments: str = ""
    work_notes: str = ""


class RequestRecord(Record):
    """`sc_request`: a catalog request; `parent` is the case."""

    number: str = ""
    request_state: str = ""
    parent: RefField = None
    short_description: str = ""
    correlation_id: str = ""
    comments: str = ""
    work_notes: str = ""


class ConfigurationItemRecord(Record):
    """`cmdb_ci`: a configuration item (the affected CI of cases and work orders)."""

    name: str = ""
    location: RefField = None
    company: RefField = None
    operational_status: str = ""


#: Table name → record model for every ITSM table.
RECORD_MODELS: Final[dict[str, type[Record]]] = {
    "incident": IncidentRecord,
    "problem": ProblemRecord,
    "change_request": ChangeRequestRecord,
    "sc_request": RequestRecord,
    "cmdb_ci": ConfigurationItemRecord,
}
