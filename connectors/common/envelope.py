"""The decoder's exact path: checks of a parsed event, in a fixed order, each with its reason code.

`decode_event` comes here for any message its fast path does not accept (see
`connectors.common.decoder`), so the first rule a message breaks is found in the same order,
whatever else is wrong with it. Every failure raises `DecodeError` whose detail names the field
and the expectation only.
"""

from __future__ import annotations

from typing import Any, Final, NoReturn, cast

import msgspec

from connectors.catalog import SYSTEMS, TABLES, TableSpec
from connectors.common.actions import check_action
from connectors.common.errors import DecodeError, ReasonCode
from connectors.common.events import JournalEntry, JournalEntryWithExtra
from connectors.common.limits import MAX_EVENT_ID, MAX_MOD_COUNT, MAX_NUMBER
from connectors.common.literals import JOURNAL_ELEMENTS, JournalElement, Operation, System
from connectors.common.values import is_sys_id, is_timestamp
from connectors.common.wire import EventEnvelope, EventJournalEntry

# The keys are the wire Structs' fields: what the fast path refuses as unknown is exactly what
# this path keeps as extra.
REQUIRED: Final = tuple(f.name for f in msgspec.structs.fields(EventEnvelope) if f.required)
KNOWN_KEYS: Final = frozenset(f.name for f in msgspec.structs.fields(EventEnvelope))
_OPERATIONS: Final = frozenset({"insert", "update", "delete", "action"})
_JOURNAL_KEYS: Final = tuple(f.name for f in msgspec.structs.fields(EventJournalEntry))


def fail(reason: ReasonCode, detail: str) -> NoReturn:
    raise DecodeError(reason, detail)


def _string(data: dict[str, Any], key: str) -> str:
    value = data[key]
    if not isinstance(value, str):
        fail("wrong_type", f"{key}: expected a string")
    return value


def check_identity(data: dict[str, Any], topic_source: str | None) -> tuple[System, TableSpec, Operation]:
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
    if not event_id or len(event_id) > MAX_EVENT_ID or not event_id.isprintable() or event_id.strip() != event_id:
        fail("invalid_value", f"event_id: expected 1-{MAX_EVENT_ID} printable characters, no edge spaces")
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


def check_journal(value: Any, spec: TableSpec) -> tuple[JournalEntry, ...]:
    """The journal entries, each checked key by key (element, value, sys_created_on/by)."""
    if not isinstance(value, list):
        fail("wrong_type", "journal: expected a list")
    return tuple(_journal_entry(item, f"journal[{index}]", spec) for index, item in enumerate(value))


def _journal_entry(item: Any, path: str, spec: TableSpec) -> JournalEntry:
    if not isinstance(item, dict):
        fail("wrong_type", f"{path}: expected an object")
    if "element" not in item:
        fail("missing_field", f"{path}.element: required field is missing")
    element = item["element"]
    if not isinstance(element, str) or element not in JOURNAL_ELEMENTS:
        fail("invalid_value", f"{path}.element: expected one of the contract's values")
    if "value" not in item:
        fail("missing_field", f"{path}.value: required field is missing")
    for key in _JOURNAL_KEYS[1:]:
        if not isinstance(item.get(key, ""), str):
            fail("wrong_type", f"{path}.{key}: expected a string")
    if element not in spec.journal:
        fail(
            "invalid_value",
            f"{path}.element: expected one of {', '.join(sorted(spec.journal)) or 'none'} for {spec.name}",
        )
    created_on = item.get("sys_created_on", "")
    if created_on and not is_timestamp(created_on):
        fail("invalid_value", f"{path}.sys_created_on: expected 'YYYY-MM-DD HH:MM:SS'")
    entry = (cast(JournalElement, element), item["value"], created_on, item.get("sys_created_by", ""))
    extra = {key: v for key, v in item.items() if key not in _JOURNAL_KEYS}
    return JournalEntryWithExtra(*entry, extra=extra) if extra else JournalEntry(*entry)


def check_number(record: dict[str, Any]) -> None:
    """The record's `number` fits the store's column."""
    number = record.get("number")
    if isinstance(number, str) and len(number) > MAX_NUMBER:
        fail("invalid_value", f"record.number: expected at most {MAX_NUMBER} characters")


def reject_nul(data: dict[str, Any], spec: TableSpec) -> None:
    """Fail on a NUL character in any string, key or value: PostgreSQL's text cannot hold one,
    and no system of the contract writes one. The detail names a contract field, never a key
    taken from the input."""
    for key, value in data.items():
        if not _has_nul(key) and not _has_nul(value):
            continue
        path = key if key in KNOWN_KEYS else "message"
        if key == "record" and isinstance(value, dict):
            field = next(f for f, v in value.items() if _has_nul(f) or _has_nul(v))
            path = f"record.{field}" if field in spec.fields else "record"
        elif key == "journal" and isinstance(value, list):
            path = f"journal[{next(i for i, item in enumerate(value) if _has_nul(item))}]"
        fail("invalid_value", f"{path}: the NUL character (\\u0000) is not accepted")


def _has_nul(value: Any) -> bool:
    if isinstance(value, str):
        return "\x00" in value
    if isinstance(value, dict):
        return any(_has_nul(k) or _has_nul(v) for k, v in value.items())
    if isinstance(value, list):
        return any(_has_nul(item) for item in value)
    return False
