"""A small contract checker for simulated events, built from ``connectors/catalog.py``.

Independent of the bridge's own decoder on purpose: it restates the contract's rules so the
simulators are checked against the contract, not against our reading of it elsewhere.
"""

from __future__ import annotations

import re
import uuid
from typing import Any

from connectors.catalog import CASE_ACTIONS, OPERATIONS, TABLES

SYS_ID = re.compile(r"[0-9a-f]{32}")
TIMESTAMP = re.compile(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d")
ENVELOPE = (
    "event_id",
    "source",
    "table",
    "operation",
    "action",
    "action_args",
    "sys_id",
    "sys_mod_count",
    "sys_updated_on",
    "sys_updated_by",
    "caused_by_command",
    "changed_fields",
    "record",
    "journal",
)


def check_event(event: dict[str, Any], last_count: dict[str, int]) -> None:
    """Assert ``event`` follows the contract; ``last_count`` tracks sys_mod_count per record."""
    assert tuple(event) == ENVELOPE
    uuid.UUID(event["event_id"])
    spec = TABLES[event["table"]]
    assert event["source"] == spec.system
    assert event["operation"] in OPERATIONS
    if event["operation"] == "action":
        assert set(event["action_args"]) <= CASE_ACTIONS[event["action"]]
        assert all(isinstance(v, str) for v in event["action_args"].values())
    else:
        assert event["action"] is None and event["action_args"] == {}
    assert SYS_ID.fullmatch(event["sys_id"])
    count = event["sys_mod_count"]
    assert isinstance(count, str) and count.isdigit()
    if event["operation"] == "insert":
        assert count == "0" and event["sys_id"] not in last_count
    else:
        assert int(count) == last_count[event["sys_id"]] + 1, "sys_mod_count grows by one per change"
    last_count[event["sys_id"]] = int(count)
    assert TIMESTAMP.fullmatch(event["sys_updated_on"])
    assert isinstance(event["sys_updated_by"], str) and event["sys_updated_by"]
    assert event["caused_by_command"] is None or isinstance(event["caused_by_command"], str)
    assert all(spec.has_field(f) or f in event["record"] for f in event["changed_fields"])
    check_record(spec.name, event["record"])
    for entry in event["journal"]:
        assert set(entry) == {"element", "value", "sys_created_on", "sys_created_by"}
        assert entry["element"] in spec.journal and isinstance(entry["value"], str)
        assert TIMESTAMP.fullmatch(entry["sys_created_on"])


def check_record(table: str, record: dict[str, Any]) -> None:
    spec = TABLES[table]
    assert spec.fields <= set(record), f"{table} record lacks {sorted(spec.fields - set(record))}"
    for field, value in record.items():
        if field in spec.journal:
            assert value == "", "journal fields read back as empty strings"
        elif field in spec.references and value != "":
            assert set(value) == {"value", "display_value"}
            assert SYS_ID.fullmatch(value["value"]) and isinstance(value["display_value"], str)
        else:
            assert isinstance(value, str), f"{table}.{field} is not a string"
            assert "\x00" not in value, f"{table}.{field}: no system writes a NUL character"
    assert len(record.get("number", "")) <= 40, "ServiceNow's number fields hold 40 characters"
