"""`decode_event`: Kafka bytes → an `Event`, or a `DecodeError` with a reason code.

Two paths, one answer. The fast path decodes the bytes straight into msgspec Structs with a
prebuilt decoder (`connectors.common.wire`), then builds the `Event`, whose construction checks
what the types cannot say (its record against the table's Struct among them). Whatever it does
not accept (bad input, an unknown key to keep, a possible NUL character) goes to the exact path,
`decode_checked`: one parse to a dict, the contract's checks in a fixed order, each with its
reason code, and the `Event` built from that dict. So the reason a message is refused for never
depends on which path saw it first; a test holds both paths to the same answers.

Errors are raised outside `except` blocks, so no exception carrying input (a JSON document, a
msgspec error) is chained to them.
"""

from __future__ import annotations

import json
import math
import re
from contextlib import suppress
from typing import Any, Final

import msgspec
from msgspec import UNSET

from connectors.catalog import SYSTEMS
from connectors.common.envelope import (
    KNOWN_KEYS,
    check_action_fields,
    check_identity,
    check_journal,
    check_number,
    check_scalars,
    fail,
    reject_nul,
)
from connectors.common.errors import DecodeError
from connectors.common.events import Event
from connectors.common.jsoncodec import REFUSED, dumps_bytes, fast_loads
from connectors.common.limits import MAX_NESTING
from connectors.common.records import record_problem
from connectors.common.shape import may_repeat_a_key, nests_too_deep, repeats_a_key
from connectors.common.wire import ENVELOPE_DECODER, StrictEnvelope

# An escaped UTF-16 surrogate: json.loads turns an unpaired one into a str that is not UTF-8.
_SURROGATE_ESCAPE: Final = re.compile(r"\\u[dD][89abcdefABCDEF]")
_NUL_ESCAPE: Final = b"\\u0000"  # the only way a JSON document carries a NUL character


def decode_event(raw: bytes | None, *, topic_source: str | None = None) -> Event:
    """Decode one event message; raise `DecodeError` when it breaks the contract.

    `topic_source` is the system whose events topic the message came from; an event claiming
    another source is rejected (`source_mismatch`). A `None` message (a tombstone) is
    `not_an_object`. Unknown extra keys, in the envelope or the record, are kept.
    """
    if topic_source is not None and topic_source not in SYSTEMS:
        raise ValueError(f"topic_source must be one of {', '.join(SYSTEMS)}")
    event = _decode_fast(raw, topic_source)
    if isinstance(event, Event):
        return event
    return _check(raw, _parse(raw, not_json=event is REFUSED), topic_source)


def _decode_fast(raw: bytes | None, topic_source: str | None) -> Event | object | None:
    """The event; or None when the exact path must decide (it may still accept the message),
    `REFUSED` when msgspec refused the bytes as JSON (that path only has to say why).

    Once the bytes fit the wire Structs, `Event` raises the exact path's own `DecodeError`: its
    checks run in that path's order, and every check that path makes before them has passed.
    """
    # A backslash first: one byte is found far faster than six, and most events have none.
    if raw is None or (b"\\" in raw and _NUL_ESCAPE in raw):
        return None
    try:
        wire = ENVELOPE_DECODER.decode(raw)
    except msgspec.ValidationError:
        return None
    except (msgspec.DecodeError, RecursionError):  # what msgspec's generic decoder refuses too
        return REFUSED
    count = wire.sys_mod_count
    if (topic_source is not None and wire.source != topic_source) or not (count.isdigit() and count.isascii()):
        return None
    # Every key read is a key kept (none repeated). Nesting is the wire types': at most three.
    encoded, defaults = _ENCODER.encode(wire), _defaults_written(wire)
    # The types hold only strings and null, which msgspec writes as short as JSON allows: a
    # compact message of the same length as its parsed form dropped nothing (one comparison);
    # any other goes by its quotes.
    if len(raw) != len(encoded) - _BYTES_OF_DEFAULT * defaults and may_repeat_a_key(
        raw, encoded, _QUOTES_OF_DEFAULT * defaults
    ):
        return None
    args, journal = wire.action_args, wire.journal
    return Event(
        wire.event_id,
        wire.source,
        wire.table,
        wire.operation,
        wire.sys_id,
        int(count),
        wire.record,
        wire.action or None,
        {} if args is UNSET else args,
        wire.sys_updated_on or "",
        wire.sys_updated_by or "",
        wire.caused_by_command or None,
        wire.changed_fields or (),
        () if journal is UNSET else journal,
    )


_ENCODER: Final = msgspec.json.Encoder()
#: what the encoder writes for a journal entry's optional key at its default: `,"sys_created_by":""`
_BYTES_OF_DEFAULT: Final = 20
_QUOTES_OF_DEFAULT: Final = 4


def _defaults_written(wire: StrictEnvelope) -> int:
    """How many optional journal keys encoding ``wire`` writes at their default (the message
    may have left them out: it is then shorter, with fewer quotes, and is not a repeat)."""
    if wire.journal is UNSET:
        return 0
    return sum((entry.sys_created_on == "") + (entry.sys_created_by == "") for entry in wire.journal)


def decode_checked(raw: bytes | None, *, topic_source: str | None = None) -> Event:
    """The exact path: every check in its fixed order on the parsed document, each failure with
    its reason code; an event that passes them all is built with its unknown keys kept."""
    return _check(raw, _parse(raw), topic_source)


def _check(raw: bytes | None, data: dict[str, Any], topic_source: str | None) -> Event:
    source, spec, operation = check_identity(data, topic_source)
    values = check_scalars(data)
    values.update(check_action_fields(data, spec.name, operation))
    journal = check_journal(data.get("journal", []), spec)
    record = data["record"]
    problem = record_problem(record, spec)
    if problem is not None:
        fail(*problem)
    check_number(record)
    if _NUL_ESCAPE in raw:  # type: ignore[operator]  # raw is bytes: _parse refused None
        reject_nul(data, spec)
    extra = {key: value for key, value in data.items() if key not in KNOWN_KEYS}
    return Event(
        source=source, table=spec.name, operation=operation, record=record, journal=journal, extra=extra, **values
    )


def _parse(raw: bytes | None, *, not_json: bool = False) -> dict[str, Any]:
    """The document; `not_json` when msgspec already refused it (say why, no second try)."""
    if raw is None:
        fail("not_an_object", "message: expected a JSON object, got no value (tombstone)")
    fast = REFUSED if not_json else fast_loads(raw)
    if isinstance(fast, dict):
        # valid UTF-8, no NaN, no unpaired surrogate: msgspec refuses them all
        return _check_shape(raw, fast)
    text: str | None = None
    with suppress(UnicodeDecodeError):
        text = bytes(raw).decode("utf-8")
    if text is None:
        fail("invalid_utf8", "message: expected UTF-8 text")
    data: Any = _NOT_JSON
    too_deep = False
    try:
        data = json.loads(text, parse_constant=_reject_constant, parse_float=_finite_float)
    except ValueError:
        pass
    except RecursionError:
        too_deep = True
    if too_deep:
        fail("invalid_json", _TOO_DEEP)
    if data is _NOT_JSON:
        fail("invalid_json", "message: expected one JSON document")
    if not isinstance(data, dict):
        fail("not_an_object", "message: expected a JSON object at the top level")
    if "\\u" in text and _SURROGATE_ESCAPE.search(text) and not _encodes_as_utf8(data):
        fail("invalid_utf8", "message: a \\u escape encodes an unpaired UTF-16 surrogate")
    return _check_shape(raw, data)


_TOO_DEEP: Final = f"message: expected objects and arrays nested at most {MAX_NESTING} deep"


def _check_shape(raw: bytes, data: dict[str, Any]) -> dict[str, Any]:
    """The document nests no deeper than `MAX_NESTING` (whatever the stack: the parsers' own
    limit depends on it), and no object in it repeats a key (the parsers keep the last)."""
    if nests_too_deep(data, 1):
        fail("invalid_json", _TOO_DEEP)
    if may_repeat_a_key(raw, dumps_bytes(data)) and repeats_a_key(raw):
        fail("duplicate_key", "message: an object has the same key twice (which value counts is ambiguous)")
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


__all__ = ["DecodeError", "decode_checked", "decode_event"]
