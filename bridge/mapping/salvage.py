"""The valid part of a mapping file that failed validation, for the checks that follow.

Validation (pydantic) stops a file at its first layer of problems; the semantic checks
(tables, fields, expressions, names across the set) need a validated file. So that one
``mappings validate`` reports every problem, the invalid *units* of a file are left out and the
rest is validated again and checked: a unit is a top-level section, one table map, one field
row of a map, one sync rule, one value map, note or derived table, one derived rule, and an
unknown key on its own. A unit that fails takes only itself out (a map whose every row failed
goes too: it has no fields).

Leaving a unit out must not cause problems of its own: declared names and sections still
count as declared (see ``semantic.declares``), and diagnostics point at the file's own indexes
(``YamlDocument.kept``).
"""

from __future__ import annotations

import dataclasses
from typing import Any

from pydantic import ValidationError

from bridge.mapping.model_errors import data_path
from bridge.mapping.safe_yaml import KeyPath, YamlDocument
from bridge.mapping.semantic import Parsed
from bridge.mapping.spec import MappingFile

#: Key paths of units that can be left out, with ``int`` for a list index, ``str`` for a name.
_UNITS: tuple[tuple[Any, ...], ...] = (
    (str,),
    ("table_maps", int),
    ("table_maps", int, "fields", int),
    ("sync", int),
    ("value_maps", str),
    ("notes", str),
    ("derived", str),
    ("derived", str, int),
)
#: Keys with a default whose invalid value can go alone (the unit holding them is checked
#: with the default): ``(pattern, keys)``.
_OPTIONAL: tuple[tuple[Any, ...], ...] = (
    ("table_maps", int, frozenset({"active", "condition", "order", "description"})),
    ("table_maps", int, "fields", int, frozenset({"value_map", "default", "omit_empty"})),
    ("notes", str, frozenset({"element", "max_value_length"})),
    (
        "routing",
        frozenset(
            {"parent_child_case_sync", "case_fields_to_sync", "resolution_mode", "late_children_get_earlier_notes"}
        ),
    ),
)
MAX_ROUNDS = 50  # each round leaves out at least one unit; a file has few


def salvage(doc: YamlDocument) -> Parsed | None:
    """The file without its invalid units, validated; None when nothing valid is left."""
    if not isinstance(doc.data, dict):
        return None
    left_out: set[KeyPath] = set()
    for _ in range(MAX_ROUNDS):
        kept: dict[KeyPath, tuple[int, ...]] = {}
        data = _without(doc.data, (), left_out, kept)
        partial = dataclasses.replace(doc, kept=kept)
        try:
            return Parsed(partial, MappingFile.model_validate(data))
        except ValidationError as error:
            units = {
                _unit_of(partial.original(data_path(tuple(e["loc"]), data, keep_last=True)), e["type"])
                for e in error.errors(include_url=False)
            }
            if None in units or units <= left_out:
                return None
            left_out |= {unit for unit in units if unit is not None}
    return None


def _unit_of(path: KeyPath, kind: str) -> KeyPath | None:
    # An unknown key goes alone: it means nothing, so what holds it can still be checked; so
    # does an invalid optional key (its default stands in).
    if kind == "extra_forbidden" or any(_matches(path, optional) for optional in _OPTIONAL):
        return path
    return _unit(path)


def _unit(path: KeyPath) -> KeyPath | None:
    """The innermost unit that holds ``path``."""
    for end in range(len(path), 0, -1):
        prefix = path[:end]
        if any(_matches(prefix, unit) for unit in _UNITS):
            return prefix
    return None


def _matches(path: KeyPath, pattern: tuple[Any, ...]) -> bool:
    return len(path) == len(pattern) and all(
        (isinstance(part, want) and not isinstance(part, bool))
        if isinstance(want, type)
        else part in want
        if isinstance(want, frozenset)
        else part == want
        for part, want in zip(path, pattern, strict=True)
    )


def _without(node: Any, path: KeyPath, left_out: set[KeyPath], kept: dict[KeyPath, tuple[int, ...]]) -> Any:
    """``node`` without the units in ``left_out``; ``kept`` gets the original index of each
    list item that stays (under the list's original path)."""
    if isinstance(node, dict):
        return {
            key: _without(value, (*path, key), left_out, kept)
            for key, value in node.items()
            if (*path, key) not in left_out
        }
    if isinstance(node, list):
        indexes = tuple(i for i in range(len(node)) if (*path, i) not in left_out)
        if len(indexes) != len(node):
            kept[path] = indexes
        return [_without(node[i], (*path, i), left_out, kept) for i in indexes]
    return node
