"""The current state of every simulated record, kept compact so large populations fit.

A record is stored as one list of strings aligned with its table's field layout (references
as bare sys_ids), plus its ``sys_mod_count``. Contract-shaped dicts are built on demand:
references become ``{"value", "display_value"}`` (the label of the referenced record, looked up
at read time like the Table API's display values), empty references ``""``, journal fields ``""``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from connectors.catalog import TABLES, TableSpec, is_case_table

_FIRST = ("number", "name", "sys_class_name", "state")


class _Layout:
    __slots__ = ("spec", "fields", "position", "references", "journal")

    def __init__(self, spec: TableSpec) -> None:
        ordered = [f for f in _FIRST if f in spec.fields]
        ordered += sorted(spec.fields - set(ordered))
        self.spec = spec
        self.fields: tuple[str, ...] = tuple(ordered)
        self.position = {field: i for i, field in enumerate(ordered)}
        self.references = tuple(f in spec.references for f in ordered)
        self.journal = tuple(f in spec.journal for f in ordered)


_LAYOUTS = {name: _Layout(spec) for name, spec in TABLES.items()}


class _Row:
    __slots__ = ("layout", "mod_count", "values", "extras")

    def __init__(self, layout: _Layout, values: list[str]) -> None:
        self.layout = layout
        self.mod_count = 0
        self.values = values
        self.extras: dict[str, str] | None = None


class RecordStore:
    """Records by sys_id, with the labels used as reference display values."""

    def __init__(self) -> None:
        self._rows: dict[str, _Row] = {}
        self._labels: dict[str, str] = {}

    def __len__(self) -> int:
        return len(self._rows)

    def __contains__(self, sys_id: object) -> bool:
        return sys_id in self._rows

    def set_label(self, sys_id: str, label: str) -> None:
        """Register the display value of a record (or of a reference-only id: asset, location…)."""
        self._labels[sys_id] = label

    def label(self, sys_id: str) -> str:
        return self._labels.get(sys_id, sys_id)

    def table(self, sys_id: str) -> str:
        return self._rows[sys_id].layout.spec.name

    def mod_count(self, sys_id: str) -> int:
        return self._rows[sys_id].mod_count

    def get(self, sys_id: str, field: str) -> str:
        """A field's stored value (a bare sys_id for references), ``""`` when unset."""
        row = self._rows[sys_id]
        index = row.layout.position.get(field)
        if index is not None:
            return row.values[index]
        return (row.extras or {}).get(field, "")

    def insert(self, table: str, sys_id: str, values: Mapping[str, str]) -> None:
        layout = _LAYOUTS[table]
        row = _Row(layout, [""] * len(layout.fields))
        if is_case_table(table):
            row.values[layout.position["sys_class_name"]] = table
        self._rows[sys_id] = row
        self.apply(sys_id, values)

    def apply(self, sys_id: str, values: Mapping[str, str]) -> list[str]:
        """Set fields; returns the names of those whose value changed (journal fields excluded)."""
        row = self._rows[sys_id]
        changed: list[str] = []
        for field, value in values.items():
            index = row.layout.position.get(field)
            if index is None:
                extras = row.extras if row.extras is not None else {}
                if extras.get(field, "") != value:
                    extras[field] = value
                    changed.append(field)
                row.extras = extras
            elif not row.layout.journal[index] and row.values[index] != value:
                row.values[index] = value
                changed.append(field)
        return changed

    def bump(self, sys_id: str) -> int:
        """Count one more change of the record; returns the new ``sys_mod_count``."""
        row = self._rows[sys_id]
        row.mod_count += 1
        return row.mod_count

    def remove(self, sys_id: str) -> None:
        del self._rows[sys_id]

    def record(self, sys_id: str) -> dict[str, Any]:
        """The contract-shaped record: every catalog field of its table, then any extras."""
        row = self._rows[sys_id]
        layout = row.layout
        shaped: dict[str, Any] = {}
        for field, value, is_ref in zip(layout.fields, row.values, layout.references, strict=True):
            if is_ref and value:
                shaped[field] = {"value": value, "display_value": self.label(value)}
            else:
                shaped[field] = value
        if row.extras:
            shaped.update(row.extras)
        return shaped
