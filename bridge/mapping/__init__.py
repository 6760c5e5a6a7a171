"""The mapping layer: admins' YAML → a validated, compiled, pure `MappingSet`.

See `docs/ARCHITECTURE.md` ("Mapping interface") and `mappings/README.md` for the format.
"""

from collections.abc import Mapping
from typing import Any

from bridge.mapping.diagnostics import Diagnostic, MappingError, MappingValidationError
from bridge.mapping.engine import MapCandidate, MappingSet, MapResult, RenderedNote, RoutingPolicy
from bridge.mapping.loader import MappingSources, build_mapping_set, load_mapping_set
from bridge.mapping.reload import MappingReloader


def explain_map_choice(mapping_set: MappingSet, source_table: str, target_table: str, record: Mapping[str, Any],
                       related: Mapping[str, Mapping[str, Any]] | None = None, *,
                       action_args: Mapping[str, Any] | None = None,
                       sys_id: str | None = None) -> tuple[MapCandidate, ...]:
    """Every map that writes `target_table`, with why it was or was not chosen for `record`."""
    return mapping_set.explain_map_choice(source_table, target_table, record, related or {},
                                          action_args=action_args or {}, sys_id=sys_id)


__all__ = [
    "Diagnostic", "MapCandidate", "MapResult", "MappingError", "MappingReloader", "MappingSet", "MappingSources",
    "MappingValidationError", "RenderedNote", "RoutingPolicy", "build_mapping_set", "explain_map_choice",
    "load_mapping_set",
]
