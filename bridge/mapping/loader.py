"""Load a mapping set: read the folder, validate everything, report all problems, compile once.

`load_mapping_set(path)` is the only function that touches the file system; `build_mapping_set`
does the rest from bytes, so tests and the YAML test runner can validate text without files.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Any

from pydantic import TypeAdapter, ValidationError

from bridge.mapping.builder import compile_set
from bridge.mapping.diagnostics import Diagnostic, MappingValidationError
from bridge.mapping.engine import MappingSet
from bridge.mapping.model_errors import diagnostics_from
from bridge.mapping.safe_yaml import read_yaml
from bridge.mapping.salvage import salvage
from bridge.mapping.semantic import Parsed, check_set, declared_names
from bridge.mapping.spec import MappingFile, Text

LOOKUP_DIR = "lookups"
_LOOKUP = TypeAdapter(dict[Text, Text])


@dataclass(frozen=True, slots=True)
class MappingSources:
    """The raw bytes of a set: mapping files by display name, lookup files by relative path."""

    files: Mapping[str, bytes]
    lookups: Mapping[str, bytes] = field(default_factory=dict)
    lookup_prefix: str = ""  # prepended to lookup paths in diagnostics


def read_sources(path: Path) -> MappingSources:
    """Read every `*.yaml` directly in `path` (or `path` itself when it is a file) and its lookups."""
    folder = path if path.is_dir() else path.parent
    names = sorted(folder.glob("*.yaml")) if path.is_dir() else [path] if path.is_file() else []
    lookup_root = folder / LOOKUP_DIR
    lookups = (
        {p.relative_to(folder).as_posix(): p.read_bytes() for p in sorted(lookup_root.rglob("*.yaml")) if p.is_file()}
        if lookup_root.is_dir()
        else {}
    )
    return MappingSources({str(p): p.read_bytes() for p in names}, lookups, f"{folder}/")


def load_mapping_set(path: Path) -> MappingSet:
    """Load, validate and compile the set at `path`; raises `MappingValidationError`."""
    path = Path(path)
    if not path.exists():
        raise MappingValidationError([Diagnostic(str(path), 0, 0, "no-mappings", "", "no such file or folder")])
    return build_mapping_set(read_sources(path))


def build_mapping_set(sources: MappingSources) -> MappingSet:
    """Validate and compile a set from bytes (pure)."""
    if not sources.files:
        raise MappingValidationError(
            [Diagnostic(sources.lookup_prefix or ".", 0, 0, "no-mappings", "", "no *.yaml mapping files")]
        )
    diagnostics: list[Diagnostic] = []
    parsed: list[Parsed] = []
    for name in sorted(sources.files):
        doc = read_yaml(name, sources.files[name])
        if isinstance(doc, Diagnostic):
            diagnostics.append(doc)
            continue
        try:
            spec = MappingFile.model_validate({} if doc.data is None else doc.data)
        except ValidationError as error:
            diagnostics += diagnostics_from(error, doc, MappingFile)
            # The valid rest of the file is still checked, so that one run reports every
            # problem (not those of the checks below only once these are fixed).
            parsed += filter(None, [salvage(doc)])
            continue
        parsed.append(Parsed(doc, spec))
    lookups, problems = _resolve_lookups(parsed, sources)
    diagnostics += problems
    # Names declared by a value map that failed validation count as declared: a reference to
    # it is not a second problem.
    names = {name for p in parsed for name in p.spec.value_maps} | {
        name for p in parsed for name in declared_names(p.doc, "value_maps")
    }
    diagnostics += check_set(parsed, names)
    if diagnostics:
        raise MappingValidationError(diagnostics)
    return compile_set([p.spec for p in parsed], [p.doc for p in parsed], lookups, _content_hash(parsed, lookups))


def _resolve_lookups(
    parsed: list[Parsed], sources: MappingSources
) -> tuple[dict[str, dict[str, str]], list[Diagnostic]]:
    entries: dict[str, dict[str, str]] = {}
    problems: list[Diagnostic] = []
    for p in parsed:
        for name, value_map in p.spec.value_maps.items():
            if value_map.file is None or value_map.file in entries:
                continue
            relative = PurePosixPath(value_map.file)
            if relative.is_absolute() or ".." in relative.parts or relative.parts[:1] != (LOOKUP_DIR,):
                problems.append(
                    p.doc.diagnostic(
                        ("value_maps", name, "file"),
                        "lookup-file",
                        f"lookup files live under '{LOOKUP_DIR}/' in the mappings folder",
                    )
                )
            elif value_map.file not in sources.lookups:
                problems.append(
                    p.doc.diagnostic(("value_maps", name, "file"), "lookup-file", f"no lookup file '{value_map.file}'")
                )
            else:
                loaded = _read_lookup(sources.lookup_prefix + value_map.file, sources.lookups[value_map.file])
                if isinstance(loaded, list):
                    problems += loaded
                else:
                    entries[value_map.file] = loaded
    return entries, problems


def _read_lookup(display: str, raw: bytes) -> dict[str, str] | list[Diagnostic]:
    doc = read_yaml(display, raw)
    if isinstance(doc, Diagnostic):
        return [doc]
    try:
        return _LOOKUP.validate_python({} if doc.data is None else doc.data, strict=True)
    except ValidationError as error:
        return diagnostics_from(error, doc)


def _content_hash(parsed: list[Parsed], lookups: dict[str, dict[str, str]]) -> str:
    canonical: dict[str, Any] = {
        "files": [p.spec.model_dump(mode="json", by_alias=True, warnings=False) for p in parsed],
        "lookups": lookups,
    }
    text = json.dumps(canonical, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(text.encode()).hexdigest()
