"""CSM and ITSM events as the contract shapes them, built for the Case ↔ ITSM scenarios."""

from __future__ import annotations

import itertools
from typing import Any

from tests.fixtures.events import make_event, new_sys_id, ref

_numbers = itertools.count(2001)

ITSM_RECORDS: dict[str, dict[str, Any]] = {
    "incident": {
        "number": "INC0012001",
        "state": "2",
        "hold_reason": "",
        "close_code": "",
        "close_notes": "",
        "priority": "3",
        "impact": "2",
        "urgency": "2",
        "short_description": "Printer fleet firmware fault",
        "description": "",
        "caller_id": "",
        "company": "",
        "correlation_id": "",
    },
    "problem": {
        "number": "PRB0004001",
        "state": "102",
        "resolution_code": "",
        "workaround": "",
        "fix_notes": "",
        "cause_notes": "",
        "close_notes": "",
        "short_description": "Firmware 4.2 jams",
        "correlation_id": "",
    },
    "change_request": {
        "number": "CHG0003001",
        "type": "normal",
        "state": "-5",
        "on_hold": "false",
        "on_hold_reason": "",
        "close_code": "",
        "close_notes": "",
        "short_description": "Roll back firmware",
        "correlation_id": "",
    },
    "sc_request": {
        "number": "REQ0002001",
        "request_state": "requested",
        "parent": "",
        "short_description": "Replacement toner",
        "correlation_id": "",
    },
}


def case(
    sys_id: str | None = None,
    mod: int = 0,
    *,
    operation: str = "insert",
    changed: tuple[str, ...] = (),
    table: str = "sn_customerservice_case",
    **fields: Any,
) -> dict[str, Any]:
    """A case event (insert by default); reference fields may be given as bare sys_ids."""
    sys_id = sys_id or new_sys_id()
    record = {"number": fields.pop("number", f"CS000{next(_numbers)}"), "sys_class_name": table, "correlation_id": ""}
    record.update({k: ref(v) if k in _CASE_REFS and isinstance(v, str) and v else v for k, v in fields.items()})
    return make_event(
        "csm-case-insert",
        sys_id=sys_id,
        sys_mod_count=mod,
        operation=operation,
        table=table,
        changed_fields=list(changed),
        record=record,
    )


_CASE_REFS = {"parent", "incident", "problem", "change", "caused_by"}


def case_update(previous: dict[str, Any], *, changed: tuple[str, ...] = (), **fields: Any) -> dict[str, Any]:
    """The next version of a case event, with ``fields`` changed."""
    record = dict(previous["record"])
    record.update({k: ref(v) if k in _CASE_REFS and isinstance(v, str) and v else v for k, v in fields.items()})
    event = make_event(
        "csm-case-insert",
        sys_id=previous["sys_id"],
        sys_mod_count=int(previous["sys_mod_count"]) + 1,
        operation="update",
        table=previous["table"],
        changed_fields=list(changed or fields),
    )
    event["record"] = record
    return event


def action(case_event: dict[str, Any], name: str, **args: str) -> dict[str, Any]:
    """An agent pressing ``name`` on the case as it currently is."""
    event = make_event(
        "csm-case-action-create-change",
        sys_id=case_event["sys_id"],
        sys_mod_count=case_event["sys_mod_count"],
        table=case_event["table"],
        action=name,
        action_args=args,
    )
    event["record"] = dict(case_event["record"])
    return event


def itsm(
    table: str,
    sys_id: str | None = None,
    mod: int = 0,
    *,
    operation: str = "update",
    changed: tuple[str, ...] = (),
    comments: tuple[str, ...] = (),
    caused_by_command: str | None = None,
    **fields: Any,
) -> dict[str, Any]:
    """An ITSM event on ``table``; ``parent`` may be a bare case sys_id."""
    record = {**ITSM_RECORDS[table], **fields}
    if isinstance(record.get("parent"), str) and record["parent"]:
        record["parent"] = ref(record["parent"])
    event = make_event(
        "itsm-incident-update",
        sys_id=sys_id or new_sys_id(),
        sys_mod_count=mod,
        table=table,
        operation=operation,
        changed_fields=list(changed),
        caused_by_command=caused_by_command,
        journal=[
            {"element": "comments", "value": c, "sys_created_on": "2026-11-22 11:00:00", "sys_created_by": "itil.user"}
            for c in comments
        ],
    )
    event["record"] = record
    return event


def insert_answer(command: dict[str, Any], sys_id: str | None = None, **fields: Any) -> dict[str, Any]:
    """ITSM's insert event for one of our insert commands (echoing the correlation id)."""
    values = {
        k: v
        for k, v in command["fields"].items()
        if k in ITSM_RECORDS[command["table"]] and k not in ("caller_id", "company")
    }
    return itsm(
        command["table"],
        sys_id,
        0,
        operation="insert",
        caused_by_command=command["command_id"],
        correlation_id=command["correlation_id"],
        **{**values, **fields},
    )
