"""The command envelope (bridge → system) and deterministic command ids.

A `Command` validates itself against the catalog on construction, so one that exists can be
published: the table belongs to the target system, every field is a contract field of that
table, references are bare sys_ids, journal elements exist on the table. It is a msgspec Struct
whose fields are in the contract's order: `to_json()` is one call to a prebuilt encoder.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from functools import cache
from typing import Annotated, Any, Final

import msgspec

from connectors.catalog import SYS_FIELDS, SYSTEMS, TABLES, TableSpec
from connectors.common.events import CausedBy
from connectors.common.literals import (
    COMMAND_OPERATIONS,
    CommandOperation,
    JournalElement,
    System,
)
from connectors.common.records import attributes_reader
from connectors.common.values import are_sys_ids, is_sys_id

#: Namespace of every command id the bridge derives (uuid5); never change it, or replays
#: after an upgrade would stop being idempotent.
COMMAND_ID_NAMESPACE: Final = uuid.UUID("0b3c7f7e-5d0a-4d6e-9a51-6b2f1c8e4d10")


def deterministic_command_id(*parts: str) -> str:
    """A UUIDv5 over `parts`: the same parts always give the same id, so a replayed event
    produces the same commands and the systems' idempotency absorbs the duplicates."""
    if not parts:
        raise ValueError("deterministic_command_id needs at least one part")
    for part in parts:
        if not isinstance(part, str):
            raise TypeError("deterministic_command_id parts must be strings")
    # Length-prefixed so ("a:b", "c") and ("a", "b:c") cannot collide.
    name = "".join(f"{len(part)}:{part}" for part in parts)
    return str(uuid.uuid5(COMMAND_ID_NAMESPACE, name))


@cache
def writable_fields(spec: TableSpec) -> frozenset[str]:
    """The fields a command may set on a table: its contract fields but the system fields and
    the journal fields (a journal entry is appended, never set)."""
    return spec.fields - SYS_FIELDS - spec.journal


#: A reference in a command's `fields`: the target's bare sys_id, or `""` to empty it.
ReferenceValue = Annotated[
    str,
    msgspec.Meta(
        max_length=32,
        extra_json_schema={"pattern": "^([0-9a-f]{32})?$"},
        description='a reference: the bare sys_id of the target, or "" to empty it',
    ),
]


@cache
def fields_model(table: str) -> type[msgspec.Struct]:
    """The fields a command may set on `table` (a catalog table), as a Struct: what `Command`
    checks its `fields` with, and their JSON Schema."""
    spec = TABLES[table]
    fields = [(name, ReferenceValue if name in spec.references else str, "") for name in sorted(writable_fields(spec))]
    doc = f"The fields a command may set on `{table}`: references as bare sys_ids, every other value a string."
    return msgspec.defstruct(
        f"{table}.fields",
        fields,
        module=__name__,
        namespace={"__doc__": doc},
        frozen=True,
        gc=False,
        forbid_unknown_fields=True,
    )


@cache
def _fields_checker(table: str) -> tuple[type[msgspec.Struct], Callable[[Any], tuple[Any, ...]]]:
    return fields_model(table), attributes_reader(sorted(TABLES[table].references))


class CommandJournalEntry(msgspec.Struct, frozen=True, gc=False, forbid_unknown_fields=True):
    """A journal entry the command appends: `work_notes` (internal) or `comments`
    (customer-visible), on a table that has that journal field."""

    # Checked as part of its `Command`: which elements exist depends on the table.
    element: JournalElement
    value: str


class Command(msgspec.Struct, frozen=True, kw_only=True, gc=False, forbid_unknown_fields=True):
    """A command (bridge → system): insert a record, or update one (set fields and/or append
    journal entries). In `fields`, a reference is written as the bare sys_id (`""` empties
    it), every other value as a string."""

    # Fields in the contract's order: `to_json()` writes them so, in one call to the encoder.
    command_id: Annotated[
        str, msgspec.Meta(min_length=1, description="idempotency key: the same id twice has the effect of once")
    ]
    target: System
    table: str
    operation: CommandOperation
    sys_id: Annotated[
        str,
        msgspec.Meta(
            extra_json_schema={"pattern": "^([0-9a-f]{32})?$"},
            description='the target record: its sys_id for an update, "" for an insert',
        ),
    ] = ""
    correlation_id: Annotated[
        str, msgspec.Meta(description="an insert's key: the inserted record carries it back in `record.correlation_id`")
    ] = ""
    fields: dict[str, str] = {}
    journal: tuple[CommandJournalEntry, ...] = ()
    caused_by: CausedBy

    def __post_init__(self) -> None:
        problem = _type_problem(self) or _contract_problem(self)
        if problem is not None:
            raise ValueError(problem)

    @property
    def message_key(self) -> str:
        """The Kafka message key: the target's sys_id, or the correlation_id for an insert (so
        every command about one record goes to one partition, in order)."""
        return self.sys_id or self.correlation_id

    def to_wire(self) -> dict[str, Any]:
        """The envelope as a dict with exactly the contract's keys, in the contract's order."""
        wire: dict[str, Any] = msgspec.to_builtins(self)
        return wire

    def to_json(self) -> bytes:
        """Compact UTF-8 JSON, keys in the contract's order."""
        return _ENCODER.encode(self)

    @classmethod
    def from_json(cls, raw: bytes) -> Command:
        """Parse a published command (simulators and replay tools read them back); raises a
        `ValueError` (msgspec's `DecodeError`/`ValidationError`) when it breaks the contract."""
        return _DECODER.decode(raw)


_ENCODER: Final = msgspec.json.Encoder()
_DECODER: Final = msgspec.json.Decoder(Command)


def _fields_follow_contract(fields: dict[str, str], table: str) -> bool:
    """One conversion to the table's fields Struct (names and types, in C), then the hex digits
    of every reference at once (a work order carries a dozen)."""
    model, references = _fields_checker(table)
    try:
        checked = msgspec.convert(fields, model)
    except msgspec.ValidationError:
        return False
    return are_sys_ids([value for value in references(checked) if value])


def _fields_problem(fields: dict[str, str], spec: TableSpec) -> str:
    """What is wrong with `fields`, naming the first field at fault."""
    writable = writable_fields(spec)
    for name, value in fields.items():
        if name not in writable:
            if name in spec.journal:
                return f"field {name!r} is a journal field: append it as journal"
            return f"field {name!r} is not a writable field of {spec.name}"
        if value.__class__ is not str:
            return f"field {name!r}: command values are strings"
        if value and name in spec.references and not is_sys_id(value):
            return f'reference field {name!r} takes a bare sys_id or ""'
    # Convert refused what no rule above names: the two readings of the catalog disagree (a bug).
    return f"fields of {spec.name}: not a contract command's"


def _type_problem(command: Command) -> str | None:
    """What a Struct built in Python (not decoded) may get wrong: msgspec checks no types then."""
    if command.command_id.__class__ is not str or not command.command_id:
        return "command_id: expected a non-empty string"
    if command.target not in SYSTEMS:
        return f"target: expected one of {', '.join(SYSTEMS)}"
    if command.table.__class__ is not str:
        return "table: expected a string"
    if command.operation not in COMMAND_OPERATIONS:
        return "operation: expected insert or update"
    if command.sys_id.__class__ is not str or command.correlation_id.__class__ is not str:
        return "sys_id, correlation_id: expected strings"
    if command.fields.__class__ is not dict:
        return "fields: expected a dict"
    if command.journal.__class__ is not tuple or any(
        entry.__class__ is not CommandJournalEntry for entry in command.journal
    ):
        return "journal: expected a tuple of CommandJournalEntry"
    if command.caused_by.__class__ is not CausedBy:
        return "caused_by: expected a CausedBy"
    return None


def _contract_problem(command: Command) -> str | None:
    spec = TABLES.get(command.table)
    if spec is None or spec.system != command.target:
        return f"table {command.table!r} is not a {command.target} table"
    if command.operation == "insert":
        if command.sys_id:
            return 'an insert has sys_id "" (the system assigns it)'
        if not command.correlation_id:
            return "an insert needs a correlation_id"
    else:
        if not is_sys_id(command.sys_id):
            return "an update needs the target's sys_id (32 lowercase hex)"
        if not command.fields and not command.journal:
            return "an update must set a field or append a journal entry"
    if command.fields and not _fields_follow_contract(command.fields, spec.name):
        return _fields_problem(command.fields, spec)
    for entry in command.journal:
        if entry.element not in spec.journal:
            return f"{command.table} has no journal field {entry.element!r}"
        if entry.value.__class__ is not str:
            return "journal value: expected a string"
    return None
