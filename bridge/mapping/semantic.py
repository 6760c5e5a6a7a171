"""Checks across the whole set that a schema cannot express: names, tables, fields, expressions."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass

from bridge.mapping import vocabulary
from bridge.mapping.diagnostics import Diagnostic, did_you_mean
from bridge.mapping.expressions import ExpressionProblem, compile_expression, record_fields
from bridge.mapping.safe_yaml import YamlDocument
from bridge.mapping.spec import DerivedField, MappingFile, NoteTemplate, SyncRule, TableMap
from bridge.mapping.templates import TemplateProblem, parse_template, placeholders
from connectors.catalog import CASE_TABLE, TABLES, TableSpec

P = tuple[str | int, ...]


@dataclass(frozen=True, slots=True)
class Parsed:
    doc: YamlDocument
    spec: MappingFile


def check_set(files: list[Parsed], value_map_names: set[str]) -> list[Diagnostic]:
    """Every cross-file and semantic problem of a parsed set (`value_map_names`: all declared)."""
    out = list(_check_singletons(files))
    out += _check_unique(
        files, "table_maps", lambda f: [(m.name, ("table_maps", i, "name")) for i, m in enumerate(f.table_maps)], "map"
    )
    out += _check_unique(files, "value_maps", lambda f: [(n, ("value_maps", n)) for n in f.value_maps], "value map")
    out += _check_unique(files, "notes", lambda f: [(k, ("notes", k)) for k in f.notes], "note template")
    out += _check_unique(
        files,
        "derived",
        lambda f: [
            (f"{t}.{r.field}", ("derived", t, i, "field"))
            for t, rules in f.derived.items()
            for i, r in enumerate(rules)
        ],
        "derived field",
    )
    out += _check_unique(
        files,
        "sync",
        lambda f: [(f"{r.source_table} → {r.target_table}", ("sync", i)) for i, r in enumerate(f.sync)],
        "sync rule",
    )
    for parsed in files:
        doc, spec = parsed.doc, parsed.spec
        for i, table_map in enumerate(spec.table_maps):
            out += _check_table_map(doc, ("table_maps", i), table_map, value_map_names)
        for table, rules in spec.derived.items():
            out += _check_derived(doc, table, rules)
        for i, rule in enumerate(spec.sync):
            out += _check_sync(doc, ("sync", i), rule)
        for key, note in spec.notes.items():
            out += _check_note(doc, key, note, value_map_names)
        if spec.routing is not None:
            out += _check_routing(doc, spec.routing.case_fields_to_sync)
    out += _check_synced_derived(files)
    return out


def _check_synced_derived(files: list[Parsed]) -> Iterator[Diagnostic]:
    """A derived field follows its rule after creation too: a sync policy for it would fight it
    (a case's location synced over the CI's site was such a bug)."""
    derived = {(table, rule.field) for p in files for table, rules in p.spec.derived.items() for rule in rules}
    for parsed in files:
        for i, rule in enumerate(parsed.spec.sync):
            for name, policy in rule.fields.items():
                to = rule.rename.get(name, name)
                if policy != "never" and (rule.target_table, to) in derived:
                    yield parsed.doc.diagnostic(
                        ("sync", i, "fields", name),
                        "derived-field-synced",
                        f"'{to}' is derived on '{rule.target_table}': it follows its rule in 'derived' "
                        "after creation too, a sync policy would overwrite it",
                        "remove it from the sync fields",
                        key=True,
                    )


def _check_singletons(files: list[Parsed]) -> Iterator[Diagnostic]:
    for section in ("version", "routing"):
        # A section that failed validation is declared all the same (no "missing" on top of it).
        declared = [p for p in files if getattr(p.spec, section) is not None or declares(p.doc, section)]
        for extra in declared[1:]:
            yield extra.doc.diagnostic(
                (section,), "duplicate-section", f"'{section}' is already declared in {declared[0].doc.file}", key=True
            )
    if files and not any(p.spec.version is not None or declares(p.doc, "version") for p in files):
        yield Diagnostic(
            files[0].doc.file,
            1,
            1,
            "missing-version",
            "version",
            "the mapping set has no 'version' (declare it in exactly one file)",
            "",
            files[0].doc.line(1),
        )


def declares(doc: YamlDocument, section: str) -> bool:
    """Whether the file has ``section`` (valid or not)."""
    return isinstance(doc.data, dict) and doc.data.get(section) is not None


def declared_names(doc: YamlDocument, section: str) -> set[str]:
    """The names a file declares in a mapping section (valid or not)."""
    names = doc.data.get(section) if isinstance(doc.data, dict) else None
    return {str(name) for name in names} if isinstance(names, dict) else set()


def _check_unique(
    files: list[Parsed], section: str, names: Callable[[MappingFile], Iterable[tuple[str, P]]], what: str
) -> Iterator[Diagnostic]:
    seen: dict[str, str] = {}
    for parsed in files:
        for name, path in names(parsed.spec):
            line, _ = parsed.doc.position(path)
            if name in seen:
                yield parsed.doc.diagnostic(
                    path,
                    "duplicate-name",
                    f"{what} '{name}' is already declared at {seen[name]}",
                    key=section in ("value_maps", "notes"),
                )
            else:
                seen[name] = f"{parsed.doc.file}:{line}"


def _table(doc: YamlDocument, path: P, name: str) -> tuple[TableSpec | None, list[Diagnostic]]:
    if name in TABLES:
        return TABLES[name], []
    return None, [doc.diagnostic(path, "unknown-table", f"unknown table '{name}'", did_you_mean(name, TABLES))]


def _field(doc: YamlDocument, path: P, table: TableSpec | None, name: str, *, key: bool = False) -> list[Diagnostic]:
    if table is None or table.has_field(name):
        return []
    return [
        doc.diagnostic(
            path,
            "unknown-field",
            f"table '{table.name}' has no field '{name}'",
            did_you_mean(name, table.fields),
            key=key,
        )
    ]


def _expression(doc: YamlDocument, path: P, text: str, source: TableSpec | None) -> list[Diagnostic]:
    compiled = compile_expression(text)
    if isinstance(compiled, ExpressionProblem):
        return [doc.diagnostic(path, compiled.code, compiled.message, compiled.hint)]
    return [d for name in record_fields(compiled) for d in _field(doc, path, source, name)]


def _value_map(doc: YamlDocument, path: P, name: str | None, known: set[str]) -> list[Diagnostic]:
    if name is None or name in known:
        return []
    return [doc.diagnostic(path, "unknown-value-map", f"no value map named '{name}'", did_you_mean(name, known))]


def _check_table_map(doc: YamlDocument, at: P, table_map: TableMap, value_maps: set[str]) -> list[Diagnostic]:
    source, out = _table(doc, (*at, "source_table"), table_map.source_table)
    target, problems = _table(doc, (*at, "target", "table"), table_map.target.table)
    out += problems
    if target is not None and target.system != table_map.target.system:
        out.append(
            doc.diagnostic(
                (*at, "target", "system"),
                "table-system-mismatch",
                f"table '{target.name}' belongs to '{target.system}', not '{table_map.target.system}'",
            )
        )
    if table_map.condition is not None:
        out += _expression(doc, (*at, "condition"), table_map.condition, source)
    kinds: dict[str, set[str]] = {}
    for i, row in enumerate(table_map.fields):
        row_at = (*at, "fields", i)
        out += _field(doc, (*row_at, "field"), target, row.field)
        if row.copy_from is not None:
            out += _field(doc, (*row_at, "copy"), source, row.copy_from)
        if row.compute is not None:
            out += _expression(doc, (*row_at, "compute"), row.compute, source)
        out += _value_map(doc, (*row_at, "value_map"), row.value_map, value_maps)
        kind = "compute" if row.compute is not None else "copy" if row.copy_from is not None else "set"
        previous = kinds.setdefault(row.field, set())
        if previous and (kind in previous or "set" in previous | {kind}):
            out.append(
                doc.diagnostic(
                    (*row_at, "field"),
                    "duplicate-field",
                    f"field '{row.field}' is set twice (only a compute may override a copy)",
                )
            )
        previous.add(kind)
    return out


def _check_derived(doc: YamlDocument, table_name: str, rules: Iterable[DerivedField]) -> list[Diagnostic]:
    table, out = _table(doc, ("derived", table_name), table_name)
    if not out:
        out = []
    for i, rule in enumerate(rules):
        at = ("derived", table_name, i)
        out += _field(doc, (*at, "field"), table, rule.field)
        for j, source in enumerate(rule.first_of):
            src_at = (*at, "first_of", j)
            if source.related is None:
                out += _field(doc, (*src_at, "field"), table, source.field)
            elif source.related not in vocabulary.RELATED_ROLES:
                out.append(
                    doc.diagnostic(
                        (*src_at, "related"),
                        "unknown-role",
                        f"unknown related role '{source.related}'",
                        did_you_mean(source.related, vocabulary.RELATED_ROLES),
                    )
                )
            else:
                role_table = vocabulary.RELATED_ROLES[source.related]
                out += _field(doc, (*src_at, "field"), TABLES.get(role_table) if role_table else None, source.field)
    return out


def _check_sync(doc: YamlDocument, at: P, rule: SyncRule) -> list[Diagnostic]:
    source, out = _table(doc, (*at, "source_table"), rule.source_table)
    target, problems = _table(doc, (*at, "target_table"), rule.target_table)
    out += problems
    known_states = vocabulary.STATE_VALUES.get(rule.target_table, frozenset())
    for i, state in enumerate(rule.unless_target_state):
        out += _state(doc, (*at, "unless_target_state", i), rule.target_table, state, known_states)
    for name, to in rule.rename.items():
        if name not in rule.fields:
            out.append(
                doc.diagnostic(
                    (*at, "rename", name), "unknown-field", f"'{name}' is renamed but has no sync policy", key=True
                )
            )
        out += _field(doc, (*at, "rename", name), target, to)
    for name, policy in rule.fields.items():
        out += _field(doc, (*at, "fields", name), source, name, key=True)
        if name not in rule.rename:
            out += _field(doc, (*at, "fields", name), target, name, key=True)
        if policy == "unless_target_state" and not rule.unless_target_state:
            out.append(
                doc.diagnostic(
                    (*at, "fields", name),
                    "missing-states",
                    "policy 'unless_target_state' needs the rule's 'unless_target_state' list",
                    "or write {unless_target_state: [states]} here",
                )
            )
        if not isinstance(policy, str):
            for i, state in enumerate(policy.unless_target_state):
                out += _state(
                    doc, (*at, "fields", name, "unless_target_state", i), rule.target_table, state, known_states
                )
    return out


def _state(doc: YamlDocument, path: P, table: str, state: str, known: frozenset[str]) -> list[Diagnostic]:
    if not known or state in known:
        return []
    return [doc.diagnostic(path, "unknown-state", f"'{state}' is not a state of '{table}'", did_you_mean(state, known))]


def _check_note(doc: YamlDocument, key: str, note: NoteTemplate, value_maps: set[str]) -> list[Diagnostic]:
    if key not in vocabulary.NOTE_KEYS:
        return [
            doc.diagnostic(
                ("notes", key),
                "unknown-note-key",
                f"no flow writes a note '{key}'",
                did_you_mean(key, vocabulary.NOTE_KEYS),
                key=True,
            )
        ]
    allowed = vocabulary.NOTE_KEYS[key]
    out = _check_template(doc, ("notes", key, "template"), key, note.template, allowed)
    for name, template in note.when_empty.items():
        out += _check_template(doc, ("notes", key, "when_empty", name), key, template, allowed)
        if name not in allowed:
            out.append(
                doc.diagnostic(
                    ("notes", key, "when_empty", name),
                    "unknown-placeholder",
                    f"'{name}' is not a value of '{key}'",
                    did_you_mean(name, allowed),
                    key=True,
                )
            )
    for name, map_name in note.labels.items():
        if name not in allowed:
            out.append(
                doc.diagnostic(
                    ("notes", key, "labels", name),
                    "unknown-placeholder",
                    f"'{name}' is not a value of '{key}'",
                    did_you_mean(name, allowed),
                    key=True,
                )
            )
        out += _value_map(doc, ("notes", key, "labels", name), map_name, value_maps)
    return out


def _check_template(doc: YamlDocument, path: P, key: str, template: str, allowed: frozenset[str]) -> list[Diagnostic]:
    parts = parse_template(template)
    if isinstance(parts, TemplateProblem):
        return [doc.diagnostic(path, "bad-template", f"at character {parts.offset + 1}: {parts.message}")]
    return [
        doc.diagnostic(
            path,
            "unknown-placeholder",
            f"'{{{name}}}' is not a value of '{key}' (values: {', '.join(sorted(allowed))})",
            did_you_mean(name, allowed),
        )
        for name in placeholders(parts)
        if name not in allowed
    ]


def _check_routing(doc: YamlDocument, fields: list[str]) -> list[Diagnostic]:
    case = TABLES[CASE_TABLE]
    out = [d for i, name in enumerate(fields) for d in _field(doc, ("routing", "case_fields_to_sync", i), case, name)]
    if "state" in fields:
        missing = [f for f in vocabulary.STATE_COMPANIONS if f not in fields]
        if missing:
            out.append(
                doc.diagnostic(
                    ("routing", "case_fields_to_sync"),
                    "state-requires-close-fields",
                    f"syncing 'state' requires syncing {' and '.join(missing)} too",
                    f"add {', '.join(missing)}",
                )
            )
    return out
