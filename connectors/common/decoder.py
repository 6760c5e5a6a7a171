"""`decode_event`: Kafka bytes → a typed `Event`, or a `DecodeError` with a reason code.

One JSON parse (msgspec; `json` only to say what is wrong with a document msgspec refuses), a
fixed sequence of cheap envelope checks, then one pydantic validation of the record against its
table's model, and last what the store must be able to hold (the `number`'s width, no NUL). Errors are raised outside `except` blocks so no exception carrying input (a JSON
document, a pydantic error) is chained to them.
"""

from __future__ import annotations

import json
import math
import re
from contextlib import suppress
from typing import Any, Final

from pydantic import ValidationError

from connectors.catalog import SYSTEMS, TableSpec
from connectors.common.envelope import (
    KNOWN_KEYS,
    MAX_NUMBER,
    check_action_fields,
    check_identity,
    check_scalars,
    fail,
)
from connectors.common.errors import DecodeError, ReasonCode
from connectors.common.events import Event, JournalEntry
from connectors.common.jsoncodec import fast_loads
from connectors.common.records import WIRE_CONTEXT, Record
from connectors.common.registry import record_model
from connectors.common.values import is_timestamp

# An escaped UTF-16 surrogate: json.loads turns an unpaired one into a str that is not UTF-8.
_SURROGATE_ESCAPE: Final = re.compile(r"\\u[dD][89abcdefABCDEF]")
_REFERENCE_SHAPE: Final = '{"value": <32 lowercase hex>, "display_value": <string>} or ""'
_EXPECTED_BY_ERROR: Final = {
    "string_type": "expected a string",
    "model_type": "expected an object",
    "model_attributes_type": "expected an object",
    "dict_type": "expected an object",
    "missing": "required field is missing",
}


def decode_event(raw: bytes, *, topic_source: str | None = None) -> Event:
    """Decode one event message; raise `DecodeError` when it breaks the contract.

    `topic_source` is the system whose events topic the message came from; an event claiming
    another source is rejected (`source_mismatch`). A `None` message (a tombstone) is
    `not_an_object`. Unknown extra keys, in the envelope or the record, are kept.
    """
    if topic_source is not None and topic_source not in SYSTEMS:
        raise ValueError(f"topic_source must be one of {', '.join(SYSTEMS)}")
    data = _parse(raw)
    source, spec, operation = check_identity(data, topic_source)
    values = check_scalars(data)
    values.update(check_action_fields(data, spec.name, operation))
    journal = _journal(data.get("journal", []), spec)
    record = _record(data["record"], spec)
    number = data["record"].get("number")
    if isinstance(number, str) and len(number) > MAX_NUMBER:
        fail("invalid_value", f"record.number: expected at most {MAX_NUMBER} characters")
    if b"\\u0000" in raw:  # the only way a JSON document carries a NUL character
        _reject_nul(data, spec)
    event = Event.model_construct(
        source=source, table=spec.name, operation=operation, record=record, journal=journal,
        **values,
    )
    extras = {key: value for key, value in data.items() if key not in KNOWN_KEYS}
    if extras:
        # Set after construction: an extra key may not collide with model_construct's own.
        event.__pydantic_extra__.update(extras)  # type: ignore[union-attr]
    # The record validated, so the received object is already in the contract's shape: it is
    # `record_dict()`, with no round trip through the model (a large share of decoding time).
    event.__dict__["_wire_record"] = data["record"]
    return event


def _parse(raw: bytes | None) -> dict[str, Any]:
    if raw is None:
        fail("not_an_object", "message: expected a JSON object, got no value (tombstone)")
    fast = fast_loads(raw)
    if isinstance(fast, dict):
        return fast  # valid UTF-8, no NaN, no unpaired surrogate: msgspec refuses them all
    text: str | None = None
    with suppress(UnicodeDecodeError):
        text = bytes(raw).decode("utf-8")
    if text is None:
        fail("invalid_utf8", "message: expected UTF-8 text")
    data: Any = _NOT_JSON
    with suppress(ValueError, RecursionError):
        data = json.loads(text, parse_constant=_reject_constant, parse_float=_finite_float)
    if data is _NOT_JSON:
        fail("invalid_json", "message: expected one JSON document")
    if not isinstance(data, dict):
        fail("not_an_object", "message: expected a JSON object at the top level")
    if "\\u" in text and _SURROGATE_ESCAPE.search(text) and not _encodes_as_utf8(data):
        fail("invalid_utf8", "message: a \\u escape encodes an unpaired UTF-16 surrogate")
    return data


_NOT_JSON: Final = object()


def _reject_constant(name: str) -> Any:
    raise ValueError("NaN and Infinity are not JSON")


def _finite_float(literal: str) -> float:
    value = float(literal)
    if math.isinf(value):  # 1e400: valid syntax, but no number a system could have meant
        raise ValueError("number out of range")
    return value


def _encodes_as_utf8(data: dict[str, Any]) -> bool:
    try:
        json.dumps(data, ensure_ascii=False).encode("utf-8")
    except (UnicodeEncodeError, RecursionError):
        return False
    return True


def _record(value: Any, spec: TableSpec) -> Record:
    if not isinstance(value, dict):
        fail("wrong_type", "record: expected an object")
    problem: tuple[ReasonCode, str] | None = None
    try:
        return record_model(spec.name).model_validate(value, context=WIRE_CONTEXT)
    except ValidationError as error:
        problem = _describe(error, "record", spec.references)
    fail(*problem)


def _reject_nul(data: dict[str, Any], spec: TableSpec) -> None:
    """Fail on a NUL character in any string, key or value: PostgreSQL's text cannot hold one,
    and no system of the contract writes one. The detail names a contract field, never a key
    taken from the input."""
    for key, value in data.items():
        if not _has_nul(key) and not _has_nul(value):
            continue
        path = key if key in KNOWN_KEYS else "message"
        if key == "record" and isinstance(value, dict):
            fields = record_model(spec.name).model_fields
            field = next(f for f, v in value.items() if _has_nul(f) or _has_nul(v))
            path = f"record.{field}" if field in fields else "record"
        elif key == "journal" and isinstance(value, list):
            path = f"journal[{next(i for i, item in enumerate(value) if _has_nul(item))}]"
        fail("invalid_value", f"{path}: the NUL character (\\u0000) is not accepted")


def _has_nul(value: Any) -> bool:
    if isinstance(value, str):
        return "\x00" in value
    if isinstance(value, dict):
        return any(_has_nul(k) or _has_nul(v) for k, v in value.items())
    if isinstance(value, list):
        return any(_has_nul(item) for item in value)
    return False


def _journal(value: Any, spec: TableSpec) -> tuple[JournalEntry, ...]:
    if not isinstance(value, list):
        fail("wrong_type", "journal: expected a list")
    entries: list[JournalEntry] = []
    for index, item in enumerate(value):
        path = f"journal[{index}]"
        if not isinstance(item, dict):
            fail("wrong_type", f"{path}: expected an object")
        problem: tuple[ReasonCode, str] | None = None
        try:
            entries.append(JournalEntry.model_validate(item))
        except ValidationError as error:
            problem = _describe(error, path, frozenset())
        if problem is not None:
            fail(*problem)
        entry = entries[-1]
        if entry.element not in spec.journal:
            fail("invalid_value", f"{path}.element: expected one of "
                                  f"{', '.join(sorted(spec.journal)) or 'none'} for {spec.name}")
        if entry.sys_created_on and not is_timestamp(entry.sys_created_on):
            fail("invalid_value", f"{path}.sys_created_on: expected 'YYYY-MM-DD HH:MM:SS'")
    return tuple(entries)


def _describe(
    error: ValidationError, prefix: str, references: frozenset[str]
) -> tuple[ReasonCode, str]:
    """The first pydantic error as (reason code, detail), built from locations and types only."""
    first = error.errors(include_url=False, include_context=False, include_input=False)[0]
    loc = first["loc"]
    field = str(loc[0]) if loc else ""
    path = f"{prefix}.{field}" if field else prefix
    if field in references:
        return "invalid_reference", f"{path}: expected {_REFERENCE_SHAPE}"
    kind = first["type"]
    if kind == "missing":
        return "missing_field", f"{path}: required field is missing"
    if kind == "literal_error":
        return "invalid_value", f"{path}: expected one of the contract's values"
    return "wrong_type", f"{path}: {_EXPECTED_BY_ERROR.get(kind, 'unexpected type')}"


__all__ = ["DecodeError", "decode_event"]
