"""The compiled, immutable parts of a mapping set (built once at load, read per event)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal

from bridge.mapping.diagnostics import MappingError
from bridge.mapping.expressions import Compiled
from bridge.mapping.templates import Part


@dataclass(frozen=True, slots=True)
class ValueTable:
    name: str
    entries: Mapping[str, str]
    default: str | None

    def lookup(self, value: str) -> str | None:
        return self.entries.get(value, self.default)


@dataclass(frozen=True, slots=True)
class Row:
    field: str
    kind: Literal["copy", "set", "compute"]
    source: str | Compiled  # source field, constant, or expression
    value_map: ValueTable | None
    default: str | None
    omit_empty: bool = False


@dataclass(frozen=True, slots=True)
class TableMapRule:
    name: str
    file: str
    line: int
    declared: int  # position in the set, for ties
    source_table: str
    target_table: str
    target_system: str
    active: bool
    condition: Compiled | None
    order: int
    rows: tuple[Row, ...]  # copy and set rows first, compute rows last (compute overrides copy)

    @property
    def where(self) -> str:
        return f"{self.file}:{self.line}"

    def precedence(self) -> tuple[int, int]:
        return (-self.order, self.declared)


@dataclass(frozen=True, slots=True)
class DerivedRule:
    field: str
    first_of: tuple[tuple[str, str | None], ...]  # (field, related role or None)


@dataclass(frozen=True, slots=True)
class SyncTable:
    source_table: str
    target_table: str
    policies: Mapping[str, frozenset[str] | Literal["always"]]  # field → states that stop it, or always
    rename: Mapping[str, str]


@dataclass(frozen=True, slots=True)
class NoteRule:
    element: Literal["work_notes", "comments"]
    parts: tuple[Part, ...]
    when_empty: tuple[tuple[str, tuple[Part, ...]], ...]
    labels: Mapping[str, ValueTable]
    max_value_length: int


def reference_value(value: Any, where: str) -> str | None:
    """A contract value as a command value: references become their bare sys_id."""
    if value is None:
        return None
    if isinstance(value, str):
        return value
    if isinstance(value, dict):
        inner = value.get("value", "")
        if isinstance(inner, str):
            return inner
        raise MappingError("bad_reference", f"{where}: a reference without a string 'value'")
    raise MappingError("bad_value_type", f"{where}: expected text or a reference, got {type(value).__name__}")


def expression_value(value: Any, where: str) -> str | None:
    """An expression's result as a command value."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return str(value)
    return reference_value(value, where)


def truthy(value: Any) -> bool:
    """JMESPath truthiness: false, null, "", [] and {} are false; 0 is true."""
    return not (value is None or value is False or value == "" or value == [] or value == {})


@dataclass(frozen=True, slots=True)
class MapCandidate:
    """One map considered for an event, and why it was or was not chosen."""

    name: str
    where: str
    order: int
    chosen: bool
    reason: str
