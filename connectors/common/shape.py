"""A document's shape, which the JSON parsers do not check: how deep it nests, and whether an
object repeats a key.

Both parsers keep the last of two equal keys, so ``{"sys_id": A, …, "sys_id": B}`` would be read
as B, silently. Telling that apart costs no second parse in the common case. Every key is a string,
and the parsed document, encoded again, holds every string it kept with its quotes escaped the same
way (``\\"``); so when the document as written holds no more ``"`` bytes than the one encoded
again (two C loops and an encode, a few µs for a case), nothing was dropped, no key repeated.
When it holds more (a repeated key, or a quote written as ``\\u0022``), one exact parse that
watches every object's keys decides (`repeats_a_key`).
"""

from __future__ import annotations

import json
from typing import Any, Final

from connectors.common.limits import MAX_NESTING

_QUOTE_ESCAPE: Final = b"\\u0022"  # a quote written so that it is not counted as one


def may_repeat_a_key(raw: bytes, encoded_again: bytes, quotes_added: int = 0) -> bool:
    """False when the JSON document ``raw`` certainly repeats no key: it has as many quote bytes
    as ``encoded_again``, the document it parsed to, encoded, less ``quotes_added`` (quotes the
    encoding writes that ``raw`` may not have: default values of fields it left out)."""
    if raw.count(b'"') != encoded_again.count(b'"') - quotes_added:
        return True
    return b"\\" in raw and _QUOTE_ESCAPE in raw


def nests_too_deep(value: Any, depth: int) -> bool:
    """Whether anything in ``value``, an object or array at nesting level ``depth``, nests
    beyond `MAX_NESTING` levels."""
    if depth > MAX_NESTING:
        return True
    for child in value.values() if value.__class__ is dict else value:
        cls = child.__class__
        if (cls is dict or cls is list) and nests_too_deep(child, depth + 1):
            return True
    return False


class _Repeated(Exception):
    pass


def _unique_pairs(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    found = dict(pairs)
    if len(found) != len(pairs):
        raise _Repeated
    return found


def repeats_a_key(raw: bytes | str) -> bool:
    """Whether an object of the (valid, not too deep) JSON document ``raw`` has a key twice."""
    try:
        json.loads(raw, object_pairs_hook=_unique_pairs)
    except _Repeated:
        return True
    return False
