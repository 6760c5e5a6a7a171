"""Compile a validated set of `MappingFile`s into a `MappingSet` (runs once per load)."""

from __future__ import annotations

from types import MappingProxyType

from bridge.mapping.compiled import DerivedRule, NoteRule, Row, SyncTable, TableMapRule, ValueTable
from bridge.mapping.engine import MappingSet, RoutingPolicy
from bridge.mapping.expressions import Compiled, compile_expression
from bridge.mapping.safe_yaml import YamlDocument
from bridge.mapping.spec import FieldRow, MappingFile, Routing, SyncRule, TableMap
from bridge.mapping.templates import Part, parse_template
from connectors.catalog import TABLES


def compile_set(
    specs: list[MappingFile], docs: list[YamlDocument], lookups: dict[str, dict[str, str]], content_hash: str
) -> MappingSet:
    version = next(s.version for s in specs if s.version is not None)
    routing = next((s.routing for s in specs if s.routing is not None), Routing())
    tables = {
        name: ValueTable(
            name, MappingProxyType(dict(vm.entries if vm.entries is not None else lookups[vm.file or ""])), vm.default
        )
        for spec in specs
        for name, vm in spec.value_maps.items()
    }
    maps: list[TableMapRule] = []
    for spec, doc in zip(specs, docs, strict=True):
        for i, table_map in enumerate(spec.table_maps):
            line, _ = doc.positions.of(("table_maps", i))
            maps.append(_table_map(table_map, doc.file, line, len(maps), tables))
    derived = {
        table: tuple(DerivedRule(r.field, tuple((s.field, s.related) for s in r.first_of)) for r in rules)
        for spec in specs
        for table, rules in spec.derived.items()
    }
    sync = {(r.source_table, r.target_table): _sync(r) for spec in specs for r in spec.sync}
    notes = {
        key: NoteRule(
            n.element,
            _parts(n.template),
            tuple((v, _parts(t)) for v, t in n.when_empty.items()),
            MappingProxyType({v: tables[m] for v, m in n.labels.items()}),
            n.max_value_length,
        )
        for spec in specs
        for key, n in spec.notes.items()
    }
    return MappingSet(
        version=version,
        content_hash=content_hash,
        routing=RoutingPolicy(
            routing.parent_child_case_sync,
            tuple(routing.case_fields_to_sync),
            routing.resolution_mode,
            routing.late_children_get_earlier_notes,
        ),
        maps=tuple(maps),
        derived=derived,
        sync=sync,
        notes=notes,
        tables=tuple(TABLES),
    )


def _table_map(table_map: TableMap, file: str, line: int, declared: int, tables: dict[str, ValueTable]) -> TableMapRule:
    rows = [_row(row, tables) for row in table_map.fields]
    rows.sort(key=lambda row: row.kind == "compute")  # stable: compute rows last, so they override copies
    return TableMapRule(
        name=table_map.name,
        file=file,
        line=line,
        declared=declared,
        source_table=table_map.source_table,
        target_table=table_map.target.table,
        target_system=table_map.target.system,
        active=table_map.active,
        condition=_expr(table_map.condition) if table_map.condition is not None else None,
        order=table_map.order,
        rows=tuple(rows),
    )


def _row(row: FieldRow, tables: dict[str, ValueTable]) -> Row:
    value_map = tables[row.value_map] if row.value_map is not None else None
    if row.compute is not None:
        return Row(row.field, "compute", _expr(row.compute), value_map, row.default, row.omit_empty)
    if row.copy_from is not None:
        return Row(row.field, "copy", row.copy_from, value_map, row.default, row.omit_empty)
    return Row(row.field, "set", row.set_value or "", value_map, row.default, row.omit_empty)


def _sync(rule: SyncRule) -> SyncTable:
    policies: dict[str, frozenset[str] | str] = {}
    for name, policy in rule.fields.items():
        if policy == "always":
            policies[name] = "always"
        elif policy == "unless_target_state":
            policies[name] = frozenset(rule.unless_target_state)
        elif not isinstance(policy, str):
            policies[name] = frozenset(policy.unless_target_state)
    return SyncTable(
        rule.source_table,
        rule.target_table,
        MappingProxyType(policies),  # type: ignore[arg-type]
        MappingProxyType(dict(rule.rename)),
    )


def _expr(text: str) -> Compiled:
    compiled = compile_expression(text)
    if not isinstance(compiled, Compiled):
        raise RuntimeError("expressions are validated before compiling")
    return compiled


def _parts(template: str) -> tuple[Part, ...]:
    parts = parse_template(template)
    if not isinstance(parts, tuple):
        raise RuntimeError("templates are validated before compiling")
    return parts
