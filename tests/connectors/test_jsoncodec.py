"""The fast JSON codec gives exactly the standard library's answers (the store and the decoder
rely on it: a record must come back from the store as it arrived)."""

from __future__ import annotations

import json
import math

from hypothesis import given
from hypothesis import strategies as st

from connectors.common import jsoncodec

json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(min_value=-(10**40), max_value=10**40)  # beyond 64 bits too
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=6), children, max_size=4),
    max_leaves=12,
)


def _same(a: object, b: object) -> bool:
    """Equal, and floats stay floats with the same sign (0.0 == -0.0 would hide a difference)."""
    if isinstance(a, float) or isinstance(b, float):
        return type(a) is type(b) and a == b and math.copysign(1, a) == math.copysign(1, b)  # type: ignore[arg-type]
    if isinstance(a, dict) and isinstance(b, dict):
        return list(a) == list(b) and all(_same(a[k], b[k]) for k in a)
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(_same(x, y) for x, y in zip(a, b, strict=True))
    return type(a) is type(b) and a == b


@given(json_values)
def test_reads_what_json_reads(value: object) -> None:
    for text in (json.dumps(value), json.dumps(value, ensure_ascii=False, indent=1)):
        assert _same(jsoncodec.loads(text.encode()), json.loads(text))
        assert _same(jsoncodec.loads(text), json.loads(text))


@given(json_values)
def test_writes_what_reads_back_the_same(value: object) -> None:
    assert _same(json.loads(jsoncodec.dumps(value)), value)
    assert jsoncodec.dumps_bytes(value).decode() == jsoncodec.dumps(value)


def test_duplicate_keys_keep_the_last_like_json() -> None:
    assert jsoncodec.loads(b'{"a": 1, "a": 2}') == json.loads('{"a": 1, "a": 2}') == {"a": 2}


def test_refused_documents_are_left_to_the_caller() -> None:
    too_deep = b'{"a": ' + b"[" * 100_000 + b"]" * 100_000 + b"}"
    for raw in (b'{"a": NaN}', b'{"a": 1e400}', b'{"a": "\\ud800"}', b"\xff", b"{", b"", too_deep):
        assert jsoncodec.fast_loads(raw) is jsoncodec.REFUSED


def test_null_is_a_document_not_a_refusal() -> None:
    assert jsoncodec.fast_loads(b"null") is None
    assert jsoncodec.loads(b"null") is None
