"""The command envelope (bridge → system) and deterministic command ids.

A `Command` validates itself against the catalog on construction, so one that exists can be
published: the table belongs to the target system, every field is a contract field of that
table, references are bare sys_ids, journal elements exist on the table.
"""

from __future__ import annotations

import uuid
from typing import Any, Final, Literal, Self

from pydantic import BaseModel, ConfigDict, Field, model_validator

from connectors.catalog import SYS_FIELDS, TABLES
from connectors.common import jsoncodec
from connectors.common.events import CausedBy, JournalElement, System
from connectors.common.values import is_sys_id

CommandOperation = Literal["insert", "update"]

#: Namespace of every command id the bridge derives (uuid5); never change it, or replays
#: after an upgrade would stop being idempotent.
COMMAND_ID_NAMESPACE: Final = uuid.UUID("0b3c7f7e-5d0a-4d6e-9a51-6b2f1c8e4d10")

_STRICT = ConfigDict(frozen=True, extra="forbid", hide_input_in_errors=True)


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


class CommandJournalEntry(BaseModel):
    """A journal entry a command appends (`work_notes` internal, `comments` customer-visible)."""

    model_config = _STRICT

    element: JournalElement
    value: str


class Command(BaseModel):
    """The contract's command envelope. `to_json()` is the exact message to publish."""

    model_config = _STRICT

    command_id: str = Field(min_length=1)
    target: System
    table: str
    operation: CommandOperation
    sys_id: str = ""
    correlation_id: str = ""
    fields: dict[str, str] = Field(default_factory=dict)
    journal: tuple[CommandJournalEntry, ...] = ()
    caused_by: CausedBy

    @model_validator(mode="after")
    def _follows_contract(self) -> Self:
        spec = TABLES.get(self.table)
        if spec is None or spec.system != self.target:
            raise ValueError(f"table {self.table!r} is not a {self.target} table")
        if self.operation == "insert":
            if self.sys_id:
                raise ValueError("an insert has sys_id \"\" (the system assigns it)")
            if not self.correlation_id:
                raise ValueError("an insert needs a correlation_id")
        else:
            if not is_sys_id(self.sys_id):
                raise ValueError("an update needs the target's sys_id (32 lowercase hex)")
            if not self.fields and not self.journal:
                raise ValueError("an update must set a field or append a journal entry")
        for name, value in self.fields.items():
            if name not in spec.fields or name in SYS_FIELDS:
                raise ValueError(f"field {name!r} is not a writable field of {self.table}")
            if name in spec.journal:
                raise ValueError(f"field {name!r} is a journal field: append it as journal")
            if name in spec.references and value and not is_sys_id(value):
                raise ValueError(f"reference field {name!r} takes a bare sys_id or \"\"")
        for entry in self.journal:
            if entry.element not in spec.journal:
                raise ValueError(f"{self.table} has no journal field {entry.element!r}")
        return self

    @property
    def kafka_key(self) -> bytes:
        """The message key: the target's sys_id, or the correlation_id for an insert."""
        return (self.sys_id or self.correlation_id).encode()

    def to_wire(self) -> dict[str, Any]:
        """The envelope as a dict with exactly the contract's keys, in the contract's order."""
        return {
            "command_id": self.command_id,
            "target": self.target,
            "table": self.table,
            "operation": self.operation,
            "sys_id": self.sys_id,
            "correlation_id": self.correlation_id,
            "fields": dict(self.fields),
            "journal": [{"element": e.element, "value": e.value} for e in self.journal],
            "caused_by": self.caused_by.model_dump(),
        }

    def to_json(self) -> bytes:
        """Compact UTF-8 JSON of `to_wire()`."""
        return jsoncodec.dumps_bytes(self.to_wire())

    @classmethod
    def from_json(cls, raw: bytes) -> Command:
        """Parse a published command (simulators and replay tools read them back)."""
        return cls.model_validate_json(raw)
