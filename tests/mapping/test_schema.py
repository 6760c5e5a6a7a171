"""The committed JSON Schema is current, draft-07, and accepts every shipped mapping file."""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema
import pytest

from bridge.mapping.safe_yaml import read_yaml
from bridge.mapping.schema import schema_text

ROOT = Path(__file__).parents[2]
SCHEMA_FILE = ROOT / "mappings" / "schema" / "mapping.schema.json"
SCHEMA = json.loads(SCHEMA_FILE.read_text())


def test_the_committed_schema_is_current() -> None:
    fix = "run: bridge mappings schema -o mappings/schema/mapping.schema.json"
    assert SCHEMA_FILE.read_text() == schema_text(), fix


def test_the_schema_is_valid_draft_07_without_2020_12_keywords() -> None:
    jsonschema.Draft7Validator.check_schema(SCHEMA)
    assert "$defs" not in SCHEMA_FILE.read_text() and "prefixItems" not in SCHEMA_FILE.read_text()


@pytest.mark.parametrize("path", sorted((ROOT / "mappings").glob("*.yaml")), ids=lambda p: p.name)
def test_every_shipped_file_validates_against_the_schema(path: Path) -> None:
    doc = read_yaml(str(path), path.read_bytes())
    errors = list(jsonschema.Draft7Validator(SCHEMA).iter_errors(doc.data))
    assert errors == []


def test_the_schema_catches_what_editors_should_underline() -> None:
    validator = jsonschema.Draft7Validator(SCHEMA)
    bad = {
        "version": "1",
        "table_maps": [
            {
                "name": "m",
                "source_table": "x",
                "target": {"system": "sap", "table": "t"},
                "fields": [{"field": "a", "copy": "b"}],
                "conditon": "x",
            }
        ],
    }
    messages = sorted(e.message for e in validator.iter_errors(bad))
    assert any("conditon" in m for m in messages) and any("'sap'" in m for m in messages)
