"""The base of every per-table record model.

Scalars are strings (default `""`), reference fields are `Reference | None` (`""` on the wire
is `None` here), and unknown extra fields are kept as they arrived.
"""

from __future__ import annotations

from typing import Annotated, Any, Final

from pydantic import BaseModel, BeforeValidator, ConfigDict, ValidationInfo
from pydantic_core import PydanticCustomError

from connectors.common.values import Reference

#: Validation context the decoder passes: wire rules are stricter than Python construction.
WIRE_CONTEXT: Final = {"wire": True}


def _reference_from_wire(value: Any, info: ValidationInfo) -> Any:
    if isinstance(value, str) and value == "":
        return None
    if value is None and info.context is not None and info.context.get("wire"):
        # On the wire an empty reference is "", never null.
        raise PydanticCustomError("invalid_reference", "empty reference must be \"\"")
    return value


#: Annotation for a reference field of a record model.
RefField = Annotated[Reference | None, BeforeValidator(_reference_from_wire)]


class Record(BaseModel):
    """A record as the contract publishes it: the full state after the change."""

    model_config = ConfigDict(extra="allow", frozen=True, hide_input_in_errors=True)

    def to_wire(self) -> dict[str, Any]:
        """The contract-shaped dict: the fields that were present, then the extra fields."""
        wire: dict[str, Any] = {}
        present = self.model_fields_set
        for name in type(self).model_fields:
            if name in present:
                value = getattr(self, name)
                if value is None:
                    wire[name] = ""
                elif isinstance(value, Reference):
                    wire[name] = value.to_wire()
                else:
                    wire[name] = value
        if self.__pydantic_extra__:
            wire.update(self.__pydantic_extra__)
        return wire

    def ref(self, field: str) -> str | None:
        """The `sys_id` a reference field points to, or `None` when it is empty.

        Raises `KeyError` when `field` is not a reference field of this model.
        """
        if field not in type(self).model_fields:
            raise KeyError(field)
        value = getattr(self, field)
        if value is None:
            return None
        if not isinstance(value, Reference):
            raise KeyError(field)
        return value.value
