"""Fuzzing `decode_event`: whatever the bytes, it returns an `Event` or raises `DecodeError`.

Anything else (a KeyError, a msgspec ValidationError, a RecursionError…) would escape the
pipeline's dead-letter handling, so it is a bug. Accepted events must survive a round trip, and
the decoder's fast path must give exactly the answer of its exact path (`decode_checked`): the
same event, or the same reason code and detail.
"""

from __future__ import annotations

import json
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from connectors.common import REASON_CODES, DecodeError, Event, decode_event
from connectors.common.decoder import decode_checked
from tests.connectors.examples import event_examples

NAMES = sorted(event_examples())
FUZZ = settings(
    max_examples=300, deadline=None, derandomize=True, database=None, suppress_health_check=[HealthCheck.too_slow]
)

json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=40)
    | st.sampled_from(["", "a" * 32, "2026-11-22 10:15:00", "csm", "wm_order", "action", "create_change"]),
    lambda children: st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=8), children, max_size=3),
    max_leaves=6,
)


def _outcome(decode: Any, raw: bytes | None, topic_source: str | None) -> Event | tuple[str, str]:
    try:
        return decode(raw, topic_source=topic_source)  # type: ignore[no-any-return]
    except DecodeError as error:
        assert error.reason_code in REASON_CODES
        return error.reason_code, error.detail


def _check(raw: bytes | None, topic_source: str | None = None) -> Event | None:
    event = _outcome(decode_event, raw, topic_source)
    assert event == _outcome(decode_checked, raw, topic_source)
    if not isinstance(event, Event):
        return None
    assert isinstance(event, Event)
    again = decode_event(event.to_json(), topic_source=event.source)
    assert again.to_wire() == event.to_wire()
    return event


def _paths(node: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    found = [prefix] if prefix else []
    if isinstance(node, dict):
        for key, child in node.items():
            found += _paths(child, (*prefix, key))
    elif isinstance(node, list):
        for index, child in enumerate(node):
            found += _paths(child, (*prefix, index))
    return found


@FUZZ
@given(st.binary(max_size=400), st.sampled_from([None, "csm", "fsm", "itsm"]))
def test_arbitrary_bytes(raw: bytes, topic_source: str | None) -> None:
    _check(raw, topic_source)


@FUZZ
@given(st.sampled_from(NAMES), st.data())
def test_byte_level_mutations_of_examples(name: str, data: st.DataObject) -> None:
    raw = event_examples()[name]
    start = data.draw(st.integers(0, len(raw)))
    end = data.draw(st.integers(start, min(len(raw), start + 8)))
    patch = data.draw(st.binary(max_size=8) | st.sampled_from([b'"', b"{", b"}", b"\\", b"\\u"]))
    _check(raw[:start] + patch + raw[end:])


@FUZZ
@given(st.sampled_from(NAMES), st.data())
def test_json_shaped_mutations_of_examples(name: str, data: st.DataObject) -> None:
    document = json.loads(event_examples()[name])
    for _ in range(data.draw(st.integers(1, 3))):
        paths = _paths(document)
        path = data.draw(st.sampled_from(paths))
        *parents, last = path
        parent: Any = document
        for key in parents:
            parent = parent[key]
        how = data.draw(st.sampled_from(["replace", "delete", "add_sibling"]))
        if how == "replace":
            parent[last] = data.draw(json_values)
        elif how == "delete":
            del parent[last]
        elif isinstance(parent, dict):
            parent[data.draw(st.text(max_size=12))] = data.draw(json_values)
        else:
            parent.append(data.draw(json_values))
    event = _check(
        json.dumps(document).encode(),
        document.get("source") if document.get("source") in ("csm", "fsm", "itsm") else None,
    )
    if event is not None:
        assert event.record_dict() == document["record"]
