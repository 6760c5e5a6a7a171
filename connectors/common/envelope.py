"""Checks of the event envelope's own fields, in a fixed order, each with its reason code.

Every failure raises `DecodeError` whose detail names the field and the expectation only.
"""

from __future__ import annotations

from typing import Any, Final, NoReturn, cast

from connectors.catalog import SYSTEMS, TABLES, TableSpec
from connectors.common.actions import check_action
from connectors.common.errors import DecodeError, ReasonCode
from connectors.common.events import Operation, System
from connectors.common.values import is_sys_id, is_timestamp

REQUIRED: Final = ("event_id", "source", "table", "operation", "sys_id", "sys_mod_count", "record")
KNOWN_KEYS: Final = frozenset(REQUIRED) | {
    "action", "action_args", "sys_updated_on", "sys_updated_by", "caused_by_command",
    "changed_fields", "journal",
}
_OPERATIONS: Final = frozenset({"insert", "update", "delete", "action"})
#: The longest event id and record number accepted. Ids are UUIDs in the contract; ServiceNow's
#: `number` fields hold at most 40 characters. The store's columns are sized from these.
MAX_EVENT_ID: Final = 64
MAX_NUMBER: Final = 40
#: ServiceNow's sys_mod_count is a 32-bit integer, and so are the store's columns.
MAX_MOD_COUNT: Final = 2**31 - 1


def fail(reason: ReasonCode, detail: str) -> NoReturn:
    raise DecodeError(reason, detail)


def _string(data: dict[str, Any], key: str) -> str:
    value = data[key]
    if not isinstance(value, str):
        fail("wrong_type", f"{key}: expected a string")
    return value


def check_identity(
    data: dict[str, Any], topic_source: str | None
) -> tuple[System, TableSpec, Operation]:
    """Required keys, then source, table and operation: returns (source, table spec, operation)."""
    for key in REQUIRED:
        if key not in data:
            fail("missing_field", f"{key}: required envelope field is missing")
    source = _string(data, "source")
    if source not in SYSTEMS:
        fail("unknown_source", f"source: expected one of {', '.join(SYSTEMS)}")
    if topic_source is not None and source != topic_source:
        fail("source_mismatch", f"source: expected {topic_source!r}, the system of the topic")
    spec = TABLES.get(_string(data, "table"))
    if spec is None or spec.system != source:
        fail("unknown_table", f"table: expected a {source} table of the contract")
    operation = _string(data, "operation")
    if operation not in _OPERATIONS:
        fail("unknown_operation", "operation: expected insert, update, delete or action")
    return cast(System, source), spec, cast(Operation, operation)


def check_scalars(data: dict[str, Any]) -> dict[str, Any]:
    """event_id, sys_id, sys_mod_count, sys_updated_*, caused_by_command, changed_fields."""
    if not is_sys_id(_string(data, "sys_id")):
        fail("invalid_sys_id", "sys_id: expected 32 lowercase hex characters")
    event_id = _string(data, "event_id")
    if not event_id or len(event_id) > MAX_EVENT_ID or not event_id.isprintable() \
            or event_id.strip() != event_id:
        fail("invalid_value", f"event_id: expected 1-{MAX_EVENT_ID} printable characters, "
                             "no edge spaces")
    count = _string(data, "sys_mod_count")
    if not (count.isascii() and count.isdigit()):
        fail("wrong_type", "sys_mod_count: expected a string of decimal digits")
    if len(count) > len(str(MAX_MOD_COUNT)) or int(count) > MAX_MOD_COUNT:
        fail("invalid_value", f"sys_mod_count: expected at most {MAX_MOD_COUNT}")
    updated_on = _optional_string(data, "sys_updated_on")
    if updated_on and not is_timestamp(updated_on):
        fail("invalid_value", "sys_updated_on: expected 'YYYY-MM-DD HH:MM:SS'")
    caused_by = data.get("caused_by_command")
    if caused_by is not None and not isinstance(caused_by, str):
        fail("wrong_type", "caused_by_command: expected a string or null")
    return {
        "event_id": event_id,
        "sys_id": data["sys_id"],
        "sys_mod_count": int(count),
        "sys_updated_on": updated_on,
        "sys_updated_by": _optional_string(data, "sys_updated_by"),
        "caused_by_command": caused_by or None,
        "changed_fields": _changed_fields(data.get("changed_fields", [])),
    }


def check_action_fields(data: dict[str, Any], table: str, operation: str) -> dict[str, Any]:
    """`action` and `action_args`, by the rules of `connectors.common.actions`."""
    action = data.get("action")
    if action is not None and not isinstance(action, str):
        fail("wrong_type", "action: expected a string or null")
    args = data.get("action_args", {})
    if not isinstance(args, dict):
        fail("wrong_type", "action_args: expected an object")
    action = action or None
    violation = check_action(table, operation, action, args)
    if violation is not None:
        fail(*violation)
    return {"action": action, "action_args": args}


def _optional_string(data: dict[str, Any], key: str) -> str:
    return _string(data, key) if key in data else ""


def _changed_fields(value: Any) -> tuple[str, ...]:
    if not isinstance(value, list):
        fail("wrong_type", "changed_fields: expected a list of strings")
    for index, name in enumerate(value):
        if not isinstance(name, str):
            fail("wrong_type", f"changed_fields[{index}]: expected a string")
    return tuple(value)
