"""The JSON Schema of a mapping file, generated from `spec.MappingFile` (draft-07 for editors).

Pydantic emits JSON Schema 2020-12 with `$defs`; editors (yaml-language-server) validate with
draft-07, so the definitions move to `definitions` and the references follow.
"""

from __future__ import annotations

import json
from typing import Any

from bridge.mapping.spec import MappingFile

SCHEMA_PATH = "mappings/schema/mapping.schema.json"
_DRAFT_07 = "http://json-schema.org/draft-07/schema#"


def mapping_json_schema() -> dict[str, Any]:
    schema = MappingFile.model_json_schema(by_alias=True, mode="validation")
    definitions = schema.pop("$defs", {})
    out = {"$schema": _DRAFT_07, "title": "Bridge mapping file", **_draft07(schema)}
    out["definitions"] = {name: _draft07(body) for name, body in sorted(definitions.items())}
    return out


def schema_text() -> str:
    """The schema as committed: stable key order, trailing newline."""
    return json.dumps(mapping_json_schema(), indent=2, ensure_ascii=False) + "\n"


def _draft07(node: Any) -> Any:
    if isinstance(node, dict):
        if "prefixItems" in node:
            raise ValueError("tuples (prefixItems) are not draft-07; use a list or a model")
        return {key: (_ref(value) if key == "$ref" else _draft07(value)) for key, value in node.items()}
    if isinstance(node, list):
        return [_draft07(item) for item in node]
    return node


def _ref(value: str) -> str:
    return value.replace("#/$defs/", "#/definitions/")
