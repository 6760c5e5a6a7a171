"""The mapping YAML format: one set of pydantic models, the single source of validation and schema.

A mapping set is every `*.yaml` file directly in the mappings folder; each file is a
`MappingFile` and may hold any of the sections. Names (maps, value maps, note keys) are unique
across the set, `version` is declared exactly once, `routing` at most once. Declaration order
(files sorted by name, then position in the file) breaks ties between maps of equal `order`.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Discriminator,
    Field,
    StringConstraints,
    Tag,
    model_validator,
)


def _int_as_text(value: Any) -> Any:
    # An unquoted `1` is lossless as "1" (the loader only reads JSON-style integers); a bool
    # or float is not, so those stay wrong and fail with a hint to quote them.
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    return value


Text = Annotated[str, BeforeValidator(_int_as_text, json_schema_input_type=str | int)]
Name = Annotated[str, StringConstraints(pattern=r"^[A-Za-z_][A-Za-z0-9_.\-]*$", max_length=120)]
Expression = Annotated[str, StringConstraints(min_length=1, max_length=4000)]

DEFAULT_CASE_FIELDS_TO_SYNC = (
    "priority",
    "state",
    "comments",
    "work_notes",
    "assigned_to",
    "close_notes",
    "resolution_code",
)


class _Model(BaseModel):
    model_config = ConfigDict(
        extra="forbid", strict=True, frozen=True, hide_input_in_errors=True, populate_by_name=False
    )


class Target(_Model):
    """Where a table map writes: the system and its table."""

    system: Literal["csm", "fsm", "itsm"]
    table: Name


class FieldRow(_Model):
    """One target field: exactly one of `copy`, `set`, `compute`; then `value_map`, `default`."""

    field: Name = Field(description="target field")
    copy_from: Name | None = Field(
        None, alias="copy", description="source field to copy (references copy their sys_id)"
    )
    set_value: Text | None = Field(None, alias="set", description="constant value")
    compute: Expression | None = Field(
        None, description="JMESPath over {record, related, action_args}; overrides a copy of the same field"
    )
    value_map: Name | None = Field(None, description="named value map applied to the value")
    default: Text | None = Field(None, description="used when the value is empty or the value map has no entry")
    omit_empty: bool = Field(False, description="leave the field out of the command when its value is empty")

    @model_validator(mode="after")
    def _one_source(self) -> FieldRow:
        sources = (("copy", self.copy_from), ("set", self.set_value), ("compute", self.compute))
        given = [k for k, v in sources if v is not None]
        if len(given) != 1:
            raise ValueError(
                f"a field row needs exactly one of copy / set / compute (got {', '.join(given) or 'none'})"
            )
        return self


class TableMap(_Model):
    """How a source record becomes a new target record (chosen per event by precedence)."""

    name: Name
    source_table: Name = Field(description="matches this table and every table extending it")
    target: Target
    active: bool = True
    condition: Expression | None = Field(None, description="JMESPath; the map applies only when it is truthy")
    order: int = Field(100, description="highest order wins; on a tie, the map declared first")
    description: str = ""
    fields: list[FieldRow] = Field(min_length=1)


class ValueMap(_Model):
    """Translate values: inline `entries` or a lookup `file` (flat YAML mapping under mappings/)."""

    entries: dict[Text, Text] | None = None
    file: str | None = Field(None, description="path relative to the mappings folder, e.g. lookups/x.yaml")
    default: Text | None = Field(None, description="used for a value with no entry")

    @model_validator(mode="after")
    def _one_source(self) -> ValueMap:
        if (self.entries is None) == (self.file is None):
            raise ValueError("a value map needs exactly one of entries / file")
        return self


class DerivedSource(_Model):
    """A candidate value: a field of the target record, or of a related record (`related` role)."""

    field: Name
    related: Name | None = Field(
        None,
        description="role of a related record: case (the case itself), "
        "cmdb_ci (the affected CI), caller (the case's contact), "
        "contact, account, consumer, …",
    )


class DerivedField(_Model):
    """A target field that always follows others: the first non-empty candidate wins."""

    field: Name
    first_of: list[DerivedSource] = Field(min_length=1)


class UnlessTargetState(_Model):
    unless_target_state: list[Text] = Field(min_length=1)


def _policy_kind(value: Any) -> str:
    return "states" if isinstance(value, dict) else "name"


SyncPolicy = Annotated[
    Annotated[Literal["never", "always", "unless_target_state"], Tag("name")]
    | Annotated[UnlessTargetState, Tag("states")],
    Discriminator(_policy_kind),
]


class SyncRule(_Model):
    """After creation: which changed source fields flow to the existing target (unlisted: never)."""

    source_table: Name
    target_table: Name
    unless_target_state: list[Text] = Field(
        default_factory=list, description="target states for fields whose policy is `unless_target_state`"
    )
    rename: dict[Name, Name] = Field(default_factory=dict, description="source field → target field, when they differ")
    fields: dict[Name, SyncPolicy]


class NoteTemplate(_Model):
    """A work-note template: `{name}` placeholders only, values inserted escaped."""

    element: Literal["work_notes", "comments"] = "work_notes"
    template: Text
    when_empty: dict[Name, Text] = Field(
        default_factory=dict, description="value → template used instead when that value is empty (first match wins)"
    )
    labels: dict[Name, Name] = Field(default_factory=dict, description="value → value map that turns it into a label")
    max_value_length: int = Field(4000, ge=16, le=100_000)


class Routing(_Model):
    """Major-case routing properties (ServiceNow's MIM properties)."""

    parent_child_case_sync: bool = False
    case_fields_to_sync: list[Name] = Field(default_factory=lambda: list(DEFAULT_CASE_FIELDS_TO_SYNC))
    resolution_mode: Literal["suggest", "propose"] = "suggest"
    late_children_get_earlier_notes: bool = False


class MappingFile(_Model):
    """One file of the mapping set; every section is optional."""

    version: Text | None = Field(None, description="version of the whole set (declare in exactly one file)")
    routing: Routing | None = None
    table_maps: list[TableMap] = Field(default_factory=list)
    value_maps: dict[Name, ValueMap] = Field(default_factory=dict)
    derived: dict[Name, list[DerivedField]] = Field(default_factory=dict, description="per target table")
    sync: list[SyncRule] = Field(default_factory=list)
    notes: dict[Name, NoteTemplate] = Field(default_factory=dict)
