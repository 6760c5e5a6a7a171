"""The mapping layer: admins' YAML → a validated, compiled, pure `MappingSet`.

See `docs/ARCHITECTURE.md` ("Mapping interface") and `mappings/README.md` for the format.

What the hot path reads (the compiled set and its errors) is imported here; the loader (pydantic
models, YAML) and the reloader (a file watcher) are imported on first use of their names, so a
module that only needs `MappingError` or `MappingSet` does not load them.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING

from bridge.mapping.compiled import MapCandidate
from bridge.mapping.diagnostics import Diagnostic, MappingError, MappingValidationError
from bridge.mapping.engine import MappingSet, MapResult, RenderedNote, RoutingPolicy

if TYPE_CHECKING:
    from bridge.mapping.loader import MappingSources, build_mapping_set, load_mapping_set
    from bridge.mapping.reload import MappingReloader

#: Names imported on first use, and the module each comes from.
_ON_FIRST_USE = {
    "MappingSources": "bridge.mapping.loader",
    "build_mapping_set": "bridge.mapping.loader",
    "load_mapping_set": "bridge.mapping.loader",
    "MappingReloader": "bridge.mapping.reload",
}


def __getattr__(name: str) -> object:
    module = _ON_FIRST_USE.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


__all__ = [
    "Diagnostic",
    "MapCandidate",
    "MapResult",
    "MappingError",
    "MappingReloader",
    "MappingSet",
    "MappingSources",
    "MappingValidationError",
    "RenderedNote",
    "RoutingPolicy",
    "build_mapping_set",
    "load_mapping_set",
]
