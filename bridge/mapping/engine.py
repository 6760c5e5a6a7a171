"""The compiled mapping set: pure, immutable, indexed by (source table, target table)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any, Literal

from bridge.mapping.compiled import (
    DerivedRule,
    MapCandidate,
    NoteRule,
    Row,
    SyncTable,
    TableMapRule,
    expression_value,
    reference_value,
    truthy,
)
from bridge.mapping.diagnostics import MappingError
from bridge.mapping.explain import explain
from bridge.mapping.templates import render
from connectors.catalog import is_case_table, lineage
from connectors.common.values import sys_id_of

_EMPTY: Mapping[str, Any] = MappingProxyType({})


@dataclass(frozen=True, slots=True)
class MapResult:
    """The chosen map and the target fields (references as bare sys_id)."""

    map_name: str
    fields: dict[str, str]
    explanation: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class RenderedNote:
    element: Literal["work_notes", "comments"]
    text: str


@dataclass(frozen=True, slots=True)
class RoutingPolicy:
    """Major-case routing (ServiceNow MIM properties)."""

    parent_child_case_sync: bool
    case_fields_to_sync: tuple[str, ...]
    resolution_mode: Literal["suggest", "propose"]
    late_children_get_earlier_notes: bool


class MappingSet:
    """A validated mapping set. Immutable and pure: safe to share between tasks and threads."""

    __slots__ = (
        "version",
        "content_hash",
        "routing",
        "maps",
        "_index",
        "_derived",
        "_sync",
        "_notes",
        "_related_derived",
        "_related_inputs",
    )

    def __init__(
        self,
        *,
        version: str,
        content_hash: str,
        routing: RoutingPolicy,
        maps: tuple[TableMapRule, ...],
        derived: Mapping[str, tuple[DerivedRule, ...]],
        sync: Mapping[tuple[str, str], SyncTable],
        notes: Mapping[str, NoteRule],
        tables: tuple[str, ...],
    ) -> None:
        self.version = version
        self.content_hash = content_hash
        self.routing = routing
        self.maps = maps
        self._derived = MappingProxyType(dict(derived))
        # The derived rules that read related records, and what they read (role → fields).
        self._related_derived = MappingProxyType(
            {
                table: tuple(r for r in rules if any(role is not None for _, role in r.first_of))
                for table, rules in derived.items()
            }
        )
        self._related_inputs = MappingProxyType(
            {table: _inputs_of(rules) for table, rules in self._related_derived.items()}
        )
        self._notes = MappingProxyType(dict(notes))
        self._index = MappingProxyType(_index_maps(maps, tables))
        self._sync = MappingProxyType(_index_sync(sync, tables))

    def candidates(self, source_table: str, target_table: str) -> tuple[TableMapRule, ...]:
        """The maps that can apply to this table pair, best precedence first."""
        return self._index.get((source_table, target_table), ())

    def map_record(
        self,
        source_table: str,
        target_table: str,
        record: Mapping[str, Any],
        related: Mapping[str, Mapping[str, Any]] = _EMPTY,
        *,
        action_args: Mapping[str, Any] = _EMPTY,
        sys_id: str | None = None,
    ) -> MapResult | None:
        """Choose the table map and build the target fields; None when no map applies.

        `sys_id` (the event's) is visible to rows as `record.sys_id`; a case is its own related
        record `case` unless `related` gives one. Raises `MappingError`.
        """
        related = _with_source(source_table, record, related)
        data = _input(record, related, action_args, sys_id)
        notes: list[str] = []
        for rule in self.candidates(source_table, target_table):
            if not rule.active:
                notes.append(f"{rule.name}: inactive")
            elif rule.condition is not None and not truthy(rule.condition.search(data, f"{rule.name}.condition")):
                notes.append(f"{rule.name}: condition is false ({rule.condition.text})")
            else:
                notes.append(f"{rule.name}: chosen (order {rule.order}, {rule.where})")
                fields = _apply_rows(rule, data)
                fields.update(self.derive(target_table, fields, related))
                return MapResult(rule.name, fields, tuple(notes))
        return None

    def explain_map_choice(
        self,
        source_table: str,
        target_table: str,
        record: Mapping[str, Any],
        related: Mapping[str, Mapping[str, Any]] = _EMPTY,
        *,
        action_args: Mapping[str, Any] = _EMPTY,
        sys_id: str | None = None,
    ) -> tuple[MapCandidate, ...]:
        """Every map that writes `target_table`, with the reason it was or was not chosen."""
        related = _with_source(source_table, record, related)
        return explain(self.maps, source_table, target_table, _input(record, related, action_args, sys_id))

    def derive(
        self, target_table: str, fields: Mapping[str, Any], related: Mapping[str, Mapping[str, Any]] = _EMPTY
    ) -> dict[str, str]:
        """The derived fields that must follow `fields` (first non-empty candidate wins)."""
        out: dict[str, str] = {}
        for rule in self._derived.get(target_table, ()):
            value = _derived_value(rule, fields, related)
            if value is not None:
                out[rule.field] = value
        return out

    def derive_related(
        self, target_table: str, fields: Mapping[str, Any], related: Mapping[str, Mapping[str, Any]]
    ) -> dict[str, str]:
        """After creation: the derived fields that read related records (the work order's
        location), as they must be now. `fields`: the target's current values; `related`: the
        related records as they are now. A field none of whose candidates is known is left out."""
        out: dict[str, str] = {}
        for rule in self._related_derived.get(target_table, ()):
            value = _derived_value(rule, fields, related)
            if value is not None:
                out[rule.field] = value
        return out

    def related_derived(self, target_table: str) -> tuple[str, ...]:
        """The derived fields of `target_table` that read related records (the location)."""
        return tuple(rule.field for rule in self._related_derived.get(target_table, ()))

    def related_inputs(self, target_table: str) -> Mapping[str, frozenset[str]]:
        """What the derived fields of `target_table` read from related records: role → fields
        (a change of one of these may change a derived value)."""
        return self._related_inputs.get(target_table, _EMPTY)

    def sync_fields(
        self, source_table: str, target_table: str, changed: Mapping[str, Any], target_state: str
    ) -> dict[str, str]:
        """After creation: the target fields to update for these changed source fields.

        Fields without a policy never flow. Derivations that need only these fields (company ←
        account, caller ← contact) are included; call `derive_related` for the ones that read
        related records (location).
        """
        table = self._sync.get((source_table, target_table))
        if table is None:
            return {}
        out: dict[str, str] = {}
        for name, value in changed.items():
            policy = table.policies.get(name)
            if policy is None or (policy != "always" and target_state in policy):
                continue
            text = reference_value(value, f"sync {source_table}→{target_table}.{name}")
            out[table.rename.get(name, name)] = text or ""
        if out:
            out.update(self.derive(target_table, out))
        return out

    def render_note(self, key: str, values: Mapping[str, Any]) -> RenderedNote | None:
        """The work note for `key`, or None when the mappings define no such note."""
        rule = self._notes.get(key)
        if rule is None:
            return None
        shown = dict(values)
        for name, table in rule.labels.items():
            raw = shown.get(name)
            if isinstance(raw, str):
                label = table.lookup(raw)
                shown[name] = raw if label is None else label
        parts = next((alt for name, alt in rule.when_empty if not shown.get(name)), rule.parts)
        return RenderedNote(rule.element, render(parts, shown, rule.max_value_length))

    def note_keys(self) -> tuple[str, ...]:
        return tuple(self._notes)

    def sync_table(self, source_table: str, target_table: str) -> SyncTable | None:
        return self._sync.get((source_table, target_table))


def _with_source(
    source_table: str, record: Mapping[str, Any], related: Mapping[str, Mapping[str, Any]]
) -> Mapping[str, Mapping[str, Any]]:
    """The related records, with a case as its own `case` (unless given)."""
    if "case" in related or not is_case_table(source_table):
        return related
    return {**related, "case": record}


def _inputs_of(rules: tuple[DerivedRule, ...]) -> Mapping[str, frozenset[str]]:
    inputs: dict[str, set[str]] = {}
    for rule in rules:
        for field, role in rule.first_of:
            if role is not None:
                inputs.setdefault(role, set()).add(field)
    return MappingProxyType({role: frozenset(fields) for role, fields in inputs.items()})


def _input(
    record: Mapping[str, Any], related: Mapping[str, Any], action_args: Mapping[str, Any], sys_id: str | None
) -> dict[str, Any]:
    view = dict(record)
    if sys_id is not None:
        view["sys_id"] = sys_id
    return {"record": view, "related": dict(related), "action_args": dict(action_args)}


def _apply_rows(rule: TableMapRule, data: dict[str, Any]) -> dict[str, str]:
    fields: dict[str, str] = {}
    for row in rule.rows:
        value = _row_value(rule.name, row, data)
        if value is not None and not (row.omit_empty and value == ""):
            fields[row.field] = value
    return fields


def _row_value(map_name: str, row: Row, data: dict[str, Any]) -> str | None:
    where = f"{map_name}.{row.field}"
    if row.kind == "set":
        value: str | None = row.source  # type: ignore[assignment]
    elif row.kind == "copy":
        value = reference_value(data["record"].get(row.source), where)
    else:
        value = expression_value(row.source.search(data, where), where)  # type: ignore[union-attr]
    if not value:
        fallback = row.default if row.default is not None else row.value_map.default if row.value_map else None
        return fallback if fallback is not None else value
    if row.value_map is None:
        return value
    mapped = row.value_map.lookup(value)
    if mapped is None:
        mapped = row.default
    if mapped is None:
        raise MappingError("unmapped_value", f"{where}: value map '{row.value_map.name}' has no entry and no default")
    return mapped


def _derived_value(rule: DerivedRule, fields: Mapping[str, Any], related: Mapping[str, Any]) -> str | None:
    """The first non-empty candidate; "" when every known candidate is empty (a target field
    given, or a related record given: its field is known to be empty); None when none is known."""
    present = False
    for field, role in rule.first_of:
        if role is None:
            if field not in fields:
                continue
            value = fields[field]
        else:
            record = related.get(role)
            if not isinstance(record, Mapping):
                continue
            value = record.get(field)
        present = True
        if isinstance(value, dict):  # a record's reference; a command field holds the sys_id
            value = sys_id_of(value)
        if isinstance(value, str) and value:
            return value
    return "" if present else None


def _index_maps(
    maps: tuple[TableMapRule, ...], tables: tuple[str, ...]
) -> dict[tuple[str, str], tuple[TableMapRule, ...]]:
    index: dict[tuple[str, str], list[TableMapRule]] = {}
    for table in tables:
        ancestors = set(lineage(table)) or {table}
        for rule in maps:
            if rule.source_table in ancestors:
                index.setdefault((table, rule.target_table), []).append(rule)
    return {key: tuple(sorted(rules, key=TableMapRule.precedence)) for key, rules in index.items()}


def _index_sync(sync: Mapping[tuple[str, str], SyncTable], tables: tuple[str, ...]) -> dict[tuple[str, str], SyncTable]:
    index: dict[tuple[str, str], SyncTable] = {}
    targets = {target for _, target in sync}
    for table in tables:
        for target in targets:
            for ancestor in lineage(table) or (table,):
                if (ancestor, target) in sync:
                    index[(table, target)] = sync[(ancestor, target)]
                    break
    return index
