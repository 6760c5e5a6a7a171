"""JSON Schemas of the messages, generated from the Structs the bridge decodes and encodes with.

msgspec writes the schemas of the event envelope (`EventEnvelope`, the decoder's first target),
of every table's record Struct (what the decoder checks a record against), of `Command` (what
the bridge encodes) and of every table's fields Struct (what `Command` checks its `fields`
with). Per system, two schemas then tie them together by `table`, as `Event` and `Command` do
when they check themselves: `<system>.event` is the envelope with that table's record and
journal elements; `<system>.command` is the command with that table's fields and journal
elements, and the insert/update rules.
The schemas are JSON Schema draft 7, as AsyncAPI's own schema format is.
"""

from __future__ import annotations

from typing import Any, Final

import msgspec

from connectors.catalog import CASE_ACTIONS, SYSTEMS, TABLES, TableSpec, is_case_table, tables_of
from connectors.common.commands import Command, fields_model
from connectors.common.registry import record_models
from connectors.common.values import SYS_ID_PATTERN
from connectors.common.wire import EventEnvelope

#: Where the schemas live in an AsyncAPI document.
COMPONENTS: Final = "#/components/schemas/{name}"


def event_schema_name(system: str) -> str:
    return f"{system}.event"


def command_schema_name(system: str) -> str:
    return f"{system}.command"


def wire_schemas(ref_template: str = COMPONENTS) -> dict[str, dict[str, Any]]:
    """Every schema by name: the Structs' (msgspec's) and each system's event and command."""
    _, schemas = msgspec.json.schema_components(
        [EventEnvelope, Command, *record_models().values(), *map(fields_model, sorted(TABLES))],
        ref_template=ref_template,
    )
    for system in SYSTEMS:
        tables = [tables_of(system)[name] for name in sorted(tables_of(system))]
        schemas[event_schema_name(system)] = _event_schema(system, tables, ref_template)
        schemas[command_schema_name(system)] = _command_schema(system, tables, ref_template)
    return schemas


def _ref(template: str, name: str) -> dict[str, str]:
    return {"$ref": template.format(name=name)}


def _event_schema(system: str, tables: list[TableSpec], template: str) -> dict[str, Any]:
    return {
        "title": event_schema_name(system),
        "description": f"A {system.upper()} record event: the envelope, with the record and the "
        "journal elements of its table.",
        "allOf": [_ref(template, EventEnvelope.__name__)],
        "properties": {"source": {"const": system}},
        "oneOf": [_event_table(spec, template) for spec in tables],
    }


def _event_table(spec: TableSpec, template: str) -> dict[str, Any]:
    properties: dict[str, Any] = {
        "table": {"const": spec.name},
        "record": _ref(template, spec.name),
        "journal": _journal_items(spec),
    }
    # An agent's button press: on cases only. The decoder reads an empty `action` as null.
    if is_case_table(spec.name):
        properties["action"] = {"enum": [None, "", *CASE_ACTIONS]}
    else:
        properties["operation"] = {"enum": ["insert", "update", "delete"]}
        properties["action"] = {"enum": [None, ""]}
    return {"title": spec.name, "properties": properties}


def _command_schema(system: str, tables: list[TableSpec], template: str) -> dict[str, Any]:
    return {
        "title": command_schema_name(system),
        "description": f"A command to {system.upper()}: the envelope, with the fields a command "
        "may set on its table and the table's journal elements.",
        "allOf": [_ref(template, Command.__name__), _OPERATION_RULES],
        "properties": {"target": {"const": system}},
        "oneOf": [_command_table(spec, template) for spec in tables],
    }


def _command_table(spec: TableSpec, template: str) -> dict[str, Any]:
    return {
        "title": spec.name,
        "properties": {
            "table": {"const": spec.name},
            "fields": _ref(template, fields_model(spec.name).__name__),
            "journal": _journal_items(spec),
        },
    }


def _journal_items(spec: TableSpec) -> dict[str, Any]:
    if not spec.journal:
        return {"type": "array", "maxItems": 0}
    return {"type": "array", "items": {"properties": {"element": {"enum": sorted(spec.journal)}}}}


# An insert names no record and needs a correlation_id; an update names its record and sets a
# field or appends a journal entry (`Command` checks the same).
_OPERATION_RULES: Final = {
    "oneOf": [
        {
            "properties": {
                "operation": {"const": "insert"},
                "sys_id": {"const": ""},
                "correlation_id": {"minLength": 1},
            },
            "required": ["correlation_id"],
        },
        {
            "properties": {"operation": {"const": "update"}, "sys_id": {"pattern": SYS_ID_PATTERN}},
            "required": ["sys_id"],
            "anyOf": [
                {"properties": {"fields": {"minProperties": 1}}, "required": ["fields"]},
                {"properties": {"journal": {"minItems": 1}}, "required": ["journal"]},
            ],
        },
    ]
}
