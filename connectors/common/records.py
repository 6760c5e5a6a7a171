"""Per-table record schemas, generated from the catalog, and the check of a record against one.

A record stays the dict it arrived as: unknown fields are kept, and the store keeps the record
as it came. It is validated against its table's Struct: every contract field is a string, every
reference field `""` or a `{"value": <sys_id>, "display_value": <string>}` object; fields the
catalog does not name are tolerated, whatever they hold. The Structs are also the records' JSON
Schemas in the AsyncAPI document.
"""

from __future__ import annotations

import operator
from collections.abc import Callable
from functools import cache
from typing import Any, Final, Literal

import msgspec

from connectors.catalog import TABLES, TableSpec, tables_of
from connectors.common.errors import DecodeError, ReasonCode
from connectors.common.registry import record_model
from connectors.common.values import Reference, are_sys_ids, is_sys_id

#: A reference field: empty (`""`) or an object (extra keys inside it are kept as well).
RefOrEmpty = Reference | Literal[""]
REFERENCE_SHAPE: Final = '{"value": <32 lowercase hex>, "display_value": <string>} or ""'
# Convert failed, yet no field breaks a rule: the two readings of the catalog disagree (a bug).
_UNEXPLAINED: Final[tuple[ReasonCode, str]] = ("invalid_value", "record: not a contract record")


def record_structs(system: str, module: str) -> dict[str, type[msgspec.Struct]]:
    """One Struct per table of `system`, named after its table (the title of its schema)."""
    structs: dict[str, type[msgspec.Struct]] = {}
    for name, spec in tables_of(system).items():
        fields = [(field, RefOrEmpty if field in spec.references else str, "") for field in sorted(spec.fields)]
        doc = (
            f"A record of the {system.upper()} table `{name}`, its full state after the "
            'change: contract fields are strings, references `""` or `{value, '
            "display_value}`; other fields may appear, and are kept."
        )
        structs[name] = msgspec.defstruct(
            name, fields, module=module, namespace={"__doc__": doc}, frozen=True, gc=False
        )
    return structs


def attributes_reader(names: list[str]) -> Callable[[Any], tuple[Any, ...]]:
    """What reads the named attributes of an object as a tuple, in one call for two or more."""
    if len(names) > 1:
        return operator.attrgetter(*names)
    return lambda struct: tuple(getattr(struct, name) for name in names)


@cache
def _checker(table: str) -> tuple[type[msgspec.Struct], Callable[[Any], tuple[Any, ...]]]:
    """The table's Struct, and what reads the values of its reference fields from one."""
    return record_model(table), attributes_reader(sorted(TABLES[table].references))


def check_record(record: Any, table: str) -> None:
    """Raise `DecodeError` when `record` is not a valid record of `table` (a catalog table)."""
    model, references = _checker(table)
    try:
        checked = msgspec.convert(record, model)
    except msgspec.ValidationError:
        checked = None
    # Lengths and shapes are msgspec's; the hex digits are checked for all references at once.
    if checked is not None and are_sys_ids([ref.value for ref in references(checked) if ref]):
        return
    raise DecodeError(*(record_problem(record, TABLES[table]) or _UNEXPLAINED))


def record_problem(record: Any, spec: TableSpec) -> tuple[ReasonCode, str] | None:
    """The first field (in the record's order) that breaks the contract, as (reason, detail).

    The detail names a catalog field, never a key or a value taken from the input.
    """
    if not isinstance(record, dict):
        return "wrong_type", "record: expected an object"
    for name, value in record.items():
        if not isinstance(name, str):
            return "wrong_type", "record: expected an object with string keys"
        if name in spec.references:
            if not (value == "" and isinstance(value, str)) and not _is_reference(value):
                return "invalid_reference", f"record.{name}: expected {REFERENCE_SHAPE}"
        elif name in spec.fields and not isinstance(value, str):
            return "wrong_type", f"record.{name}: expected a string"
    return None


def _is_reference(value: Any) -> bool:
    return isinstance(value, dict) and is_sys_id(value.get("value")) and isinstance(value.get("display_value"), str)
