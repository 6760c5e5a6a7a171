"""The contract's value conventions: sys_ids, timestamps and reference values."""

from __future__ import annotations

import re
from typing import Annotated, Any, Final

from pydantic import BaseModel, ConfigDict, StringConstraints

#: `sys_id`: 32 lowercase hex characters.
SYS_ID_PATTERN: Final = r"^[0-9a-f]{32}$"
_SYS_ID = re.compile(r"[0-9a-f]{32}")
_TIMESTAMP = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2} [0-9]{2}:[0-9]{2}:[0-9]{2}")

SysId = Annotated[str, StringConstraints(pattern=SYS_ID_PATTERN)]


def is_sys_id(value: object) -> bool:
    """True for a string of exactly 32 lowercase hex characters."""
    return isinstance(value, str) and _SYS_ID.fullmatch(value) is not None


def is_timestamp(value: object) -> bool:
    """True for the contract's `YYYY-MM-DD HH:MM:SS` (UTC) form."""
    return isinstance(value, str) and _TIMESTAMP.fullmatch(value) is not None


class Reference(BaseModel):
    """A reference field's value: the target's `sys_id` and its label at the time of the event.

    An empty reference is `None` in the typed models and `""` on the wire.
    """

    model_config = ConfigDict(frozen=True, extra="allow", hide_input_in_errors=True)

    value: SysId
    display_value: str

    def to_wire(self) -> dict[str, Any]:
        """The contract's `{"value", "display_value"}` object (plus any extra keys received)."""
        wire: dict[str, Any] = {"value": self.value, "display_value": self.display_value}
        if self.__pydantic_extra__:
            wire.update(self.__pydantic_extra__)
        return wire
