"""The event envelope a system publishes (system → bridge), as a typed, immutable model."""

from __future__ import annotations

from functools import cached_property

from typing import Any, Literal, Self

from pydantic import BaseModel, ConfigDict, Field, ValidationInfo, field_validator, model_validator

from connectors.catalog import TABLES
from connectors.common.actions import check_action
from connectors.common import jsoncodec
from connectors.common.records import Record
from connectors.common.registry import record_model
from connectors.common.values import SysId

System = Literal["csm", "fsm", "itsm"]
Operation = Literal["insert", "update", "delete", "action"]
JournalElement = Literal["work_notes", "comments"]

_FROZEN = ConfigDict(frozen=True, extra="allow", hide_input_in_errors=True)


class JournalEntry(BaseModel):
    """A journal entry added by the change (`work_notes` internal, `comments` customer-visible)."""

    model_config = _FROZEN

    element: JournalElement
    value: str
    sys_created_on: str = ""
    sys_created_by: str = ""


class CausedBy(BaseModel):
    """The event a command answers (the command envelope's `caused_by`)."""

    model_config = ConfigDict(frozen=True, extra="forbid", hide_input_in_errors=True)

    event_id: str = Field(min_length=1)
    source: System
    table: str
    sys_id: SysId


class Event(BaseModel):
    """One change of one record, as the contract's event envelope describes it.

    `record` is the table's typed model (see `connectors.<system>.records`); `sys_mod_count`
    is parsed from the contract's string. Unknown envelope keys are kept as model extras.
    `decode_event` is the way to build one from Kafka bytes; building one directly (the
    simulators do) validates the same table/source consistency.
    """

    model_config = _FROZEN

    event_id: str = Field(min_length=1)
    source: System
    table: str
    operation: Operation
    action: str | None = None
    action_args: dict[str, str] = Field(default_factory=dict)
    sys_id: SysId
    sys_mod_count: int = Field(ge=0)
    sys_updated_on: str = ""
    sys_updated_by: str = ""
    caused_by_command: str | None = None
    changed_fields: tuple[str, ...] = ()
    record: Record
    journal: tuple[JournalEntry, ...] = ()

    @field_validator("record", mode="before")
    @classmethod
    def _record_of_table(cls, value: Any, info: ValidationInfo) -> Any:
        table = info.data.get("table")
        if isinstance(value, dict) and table in TABLES:
            return record_model(table).model_validate(value)
        return value

    @model_validator(mode="after")
    def _table_of_source(self) -> Self:
        spec = TABLES.get(self.table)
        if spec is None or spec.system != self.source:
            raise ValueError("table is not a table of the event's source system")
        if not isinstance(self.record, record_model(self.table)):
            raise ValueError("record is not the record model of the event's table")
        violation = check_action(self.table, self.operation, self.action, self.action_args)
        if violation is not None:
            raise ValueError(violation[1])
        return self

    def ref(self, field: str) -> str | None:
        """The `sys_id` a reference field of the record points to; `None` when empty."""
        return self.record.ref(field)

    def record_dict(self) -> dict[str, Any]:
        """The record in the contract's shape (references as objects or `""`, extras kept).

        Built once per event and shared: callers must not mutate it.
        """
        return self._wire_record

    @cached_property
    def _wire_record(self) -> dict[str, Any]:
        return self.record.to_wire()

    def as_cause(self) -> CausedBy:
        """This event as the `caused_by` of a command answering it."""
        return CausedBy(event_id=self.event_id, source=self.source, table=self.table,
                        sys_id=self.sys_id)

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
            "record": self.record.to_wire(),
            "journal": [entry.model_dump() for entry in self.journal],
        }
        if self.__pydantic_extra__:
            wire.update(self.__pydantic_extra__)
        return wire

    def to_json(self) -> bytes:
        """The envelope as compact UTF-8 JSON, as a system would publish it."""
        return jsoncodec.dumps_bytes(self.to_wire())
