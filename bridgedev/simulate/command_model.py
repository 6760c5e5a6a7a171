"""The commands the simulated systems accept, parsed strictly the way the contract states them."""

from __future__ import annotations

import re
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, StrictStr, model_validator

from connectors.catalog import TABLES

SYS_ID = re.compile(r"[0-9a-f]{32}")


class CommandJournal(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True, hide_input_in_errors=True)

    element: Literal["work_notes", "comments"]
    value: StrictStr


class InboundCommand(BaseModel):
    """A bridge command as received on ``<system>.commands``."""

    model_config = ConfigDict(extra="ignore", frozen=True, hide_input_in_errors=True)

    command_id: StrictStr = Field(min_length=1)
    target: Literal["csm", "fsm", "itsm"]
    table: StrictStr
    operation: Literal["insert", "update"]
    sys_id: StrictStr = ""
    correlation_id: StrictStr = ""
    fields: dict[str, StrictStr] = Field(default_factory=dict)
    journal: tuple[CommandJournal, ...] = ()

    @model_validator(mode="after")
    def _consistent(self) -> InboundCommand:
        spec = TABLES.get(self.table)
        if spec is None or spec.system != self.target:
            raise ValueError("table is not one of the target system's tables")
        if self.operation == "insert" and (self.sys_id or not self.correlation_id):
            raise ValueError("an insert has an empty sys_id and a correlation_id")
        if self.operation == "update" and not SYS_ID.fullmatch(self.sys_id):
            raise ValueError("an update names its record by sys_id")
        for field, value in self.fields.items():
            if field in spec.references and value and not SYS_ID.fullmatch(value):
                raise ValueError(f"reference field {field} is not a sys_id")
        return self
