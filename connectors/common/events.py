"""The event envelope a system publishes (system → bridge), as immutable msgspec Structs.

An `Event` that exists follows the contract: msgspec Structs check no types on construction, so
`__post_init__` checks everything the decoder's wire types do not (and, for an `Event` built
directly, those too). `decode_event` is the way to build one from Kafka bytes.
"""

from __future__ import annotations

from typing import Annotated, Any

import msgspec

from connectors.catalog import OPERATIONS, SYSTEMS, TABLES, TableSpec
from connectors.common import jsoncodec
from connectors.common.actions import check_action
from connectors.common.errors import DecodeError, ReasonCode
from connectors.common.limits import MAX_EVENT_ID, MAX_MOD_COUNT, MAX_NUMBER
from connectors.common.literals import JOURNAL_ELEMENTS, JournalElement, Operation, System
from connectors.common.records import check_record
from connectors.common.values import SysId, is_optional_timestamp, is_sys_id
from connectors.common.wire import JournalEntry

Problem = tuple[ReasonCode, str]


class JournalEntryWithExtra(JournalEntry, frozen=True, gc=False, kw_only=True):
    """A journal entry that carried keys beyond the contract's: kept in `extra` for `to_wire`."""

    extra: dict[str, Any]

    def to_wire(self) -> dict[str, Any]:
        return {**super().to_wire(), **self.extra}


class CausedBy(msgspec.Struct, frozen=True, gc=False, forbid_unknown_fields=True):
    """The event the command answers."""

    event_id: Annotated[str, msgspec.Meta(min_length=1)]
    source: System
    table: str
    sys_id: SysId

    def __post_init__(self) -> None:
        if self.event_id.__class__ is not str or not self.event_id:
            raise ValueError("caused_by.event_id: expected a non-empty string")
        if self.source not in SYSTEMS:
            raise ValueError(f"caused_by.source: expected one of {', '.join(SYSTEMS)}")
        if self.table.__class__ is not str:
            raise ValueError("caused_by.table: expected a string")
        if not is_sys_id(self.sys_id):
            raise ValueError("caused_by.sys_id: expected 32 lowercase hex characters")


class Event(msgspec.Struct, frozen=True, gc=False):
    """One change of one record, as the contract's event envelope describes it.

    `record` is the record's dict as received (validated against its table's Struct; unknown
    fields kept); `sys_mod_count` is parsed from the contract's string; `extra` holds unknown
    envelope keys. Construction raises `DecodeError` (a `ValueError`) when the event breaks
    the contract.
    """

    event_id: str
    source: System
    table: str
    operation: Operation
    sys_id: str
    sys_mod_count: int
    record: dict[str, Any]
    action: str | None = None
    action_args: dict[str, str] = {}
    sys_updated_on: str = ""
    sys_updated_by: str = ""
    caused_by_command: str | None = None
    changed_fields: tuple[str, ...] = ()
    journal: tuple[JournalEntry, ...] = ()
    extra: dict[str, Any] = {}

    def __post_init__(self) -> None:
        problem = _envelope_problem(self)
        if problem is not None:
            raise DecodeError(*problem)
        check_record(self.record, self.table)
        number = self.record.get("number")
        if number.__class__ is str and len(number) > MAX_NUMBER:
            raise DecodeError("invalid_value", f"record.number: expected at most {MAX_NUMBER} characters")

    def ref(self, field: str) -> str | None:
        """The `sys_id` a reference field of the record points to; `None` when empty.

        Raises `KeyError` when `field` is not a reference field of the event's table.
        """
        if field not in TABLES[self.table].references:
            raise KeyError(field)
        value = self.record.get(field)
        return value["value"] if isinstance(value, dict) else None

    def record_dict(self) -> dict[str, Any]:
        """The record in the contract's shape (references as objects or `""`, extras kept): the
        dict as received. Shared: callers must not mutate it."""
        return self.record

    def as_cause(self) -> CausedBy:
        """This event as the `caused_by` of a command answering it."""
        return CausedBy(self.event_id, self.source, self.table, self.sys_id)

    def to_wire(self) -> dict[str, Any]:
        """The full contract envelope (the inverse of `decode_event`)."""
        wire: dict[str, Any] = {
            "event_id": self.event_id,
            "source": self.source,
            "table": self.table,
            "operation": self.operation,
            "action": self.action,
            "action_args": dict(self.action_args),
            "sys_id": self.sys_id,
            "sys_mod_count": str(self.sys_mod_count),
            "sys_updated_on": self.sys_updated_on,
            "sys_updated_by": self.sys_updated_by,
            "caused_by_command": self.caused_by_command,
            "changed_fields": list(self.changed_fields),
            "record": self.record,
            "journal": [entry.to_wire() for entry in self.journal],
        }
        if self.extra:
            wire.update(self.extra)
        return wire

    def to_json(self) -> bytes:
        """The envelope as compact UTF-8 JSON, as a system would publish it."""
        return jsoncodec.dumps_bytes(self.to_wire())


def _envelope_problem(event: Event) -> Problem | None:
    """The first rule the envelope breaks, in the exact path's order (`envelope.py`); the types
    are checked too, for an `Event` built in Python (the decoder's have been)."""
    source = event.source
    if source not in SYSTEMS:
        return "unknown_source", f"source: expected one of {', '.join(SYSTEMS)}"
    spec = TABLES.get(event.table) if event.table.__class__ is str else None
    if spec is None or spec.system != source:
        return "unknown_table", f"table: expected a {source} table of the contract"
    if event.operation not in OPERATIONS:
        return "unknown_operation", "operation: expected insert, update, delete or action"
    if not is_sys_id(event.sys_id):
        return "invalid_sys_id", "sys_id: expected 32 lowercase hex characters"
    if not is_event_id(event.event_id):
        return "invalid_value", (f"event_id: expected 1-{MAX_EVENT_ID} printable characters, no edge spaces")
    count = event.sys_mod_count
    if count.__class__ is not int or not 0 <= count <= MAX_MOD_COUNT:
        return "invalid_value", f"sys_mod_count: expected at most {MAX_MOD_COUNT}"
    if not is_optional_timestamp(event.sys_updated_on):
        return "invalid_value", "sys_updated_on: expected 'YYYY-MM-DD HH:MM:SS'"
    caused_by = event.caused_by_command
    if caused_by is not None and caused_by.__class__ is not str:
        return "wrong_type", "caused_by_command: expected a string or null"
    if event.sys_updated_by.__class__ is not str:
        return "wrong_type", "sys_updated_by: expected a string"
    if not _strings(event.changed_fields):
        return "wrong_type", "changed_fields: expected a tuple of strings"
    action = event.action
    if action is not None and action.__class__ is not str:
        return "wrong_type", "action: expected a string or null"
    if (
        event.action_args.__class__ is not dict
        or event.record.__class__ is not dict
        or event.extra.__class__ is not dict
    ):
        return "wrong_type", "action_args, record, extra: expected dicts"
    return check_action(event.table, event.operation, action, event.action_args) or _journal_problem(
        event.journal, spec, event.sys_updated_on
    )


def _strings(values: Any) -> bool:
    """A tuple of strings (`join` refuses anything else: cheaper than a loop in Python)."""
    if values.__class__ is not tuple:
        return False
    try:
        "".join(values)
    except TypeError:
        return False
    return True


def _journal_problem(journal: Any, spec: TableSpec, checked_on: str) -> Problem | None:
    """The first entry that breaks the contract; `checked_on` is a timestamp checked already
    (the change's own, which the entries it added usually carry)."""
    if journal.__class__ is not tuple:
        return "wrong_type", "journal: expected a tuple of JournalEntry"
    for index, entry in enumerate(journal):
        if not isinstance(entry, JournalEntry):
            return "wrong_type", f"journal[{index}]: expected a JournalEntry"
        if entry.element.__class__ is not str or entry.element not in spec.journal:
            return "invalid_value", (
                f"journal[{index}].element: expected one of {', '.join(sorted(spec.journal)) or 'none'} for {spec.name}"
            )
        if not (entry.value.__class__ is str and entry.sys_created_by.__class__ is str) or (
            isinstance(entry, JournalEntryWithExtra) and entry.extra.__class__ is not dict
        ):
            return "wrong_type", f"journal[{index}]: expected strings"
        if entry.sys_created_on != checked_on and not is_optional_timestamp(entry.sys_created_on):
            return "invalid_value", (f"journal[{index}].sys_created_on: expected 'YYYY-MM-DD HH:MM:SS'")
    return None


def is_event_id(value: object) -> bool:
    """1 to `MAX_EVENT_ID` printable characters, no space at either end."""
    return value.__class__ is str and 0 < len(value) <= MAX_EVENT_ID and value.isprintable() and value.strip() == value


__all__ = [
    "JOURNAL_ELEMENTS",
    "CausedBy",
    "Event",
    "JournalElement",
    "JournalEntry",
    "JournalEntryWithExtra",
    "Operation",
    "System",
]
