"""What the shape checks (repeated keys, nesting) must not refuse: the ways a valid event may be
written. Each variant decodes to exactly the event its compact form does."""

from __future__ import annotations

import json
from typing import Any

import msgspec
import pytest

from connectors.common import DecodeError, decode_event
from connectors.common.limits import MAX_NESTING
from connectors.common.wire import EventEnvelope, StrictEnvelope
from tests.connectors.examples import event_examples, example


def _written(document: dict[str, Any], **dumps: Any) -> bytes:
    return json.dumps(document, **dumps).encode()


@pytest.mark.parametrize("name", sorted(event_examples()))
@pytest.mark.parametrize(
    "dumps",
    [
        {"separators": (",", ":")},
        {"indent": 2},
        {"separators": (" , ", " : ")},  # blanks before every colon
        {"separators": ("\n,\t", "\r\n:\n")},
    ],
)
def test_an_event_however_it_is_spaced(name: str, dumps: dict[str, Any]) -> None:
    document = example(name)
    expected = decode_event(_written(document, separators=(",", ":")))
    assert decode_event(_written(document, **dumps)) == expected


def test_text_that_looks_like_keys_and_defaults_written_out() -> None:
    document = example("csm-case-update.json")
    document["record"]["description"] = 'quoted JSON: {"sys_id": "x", "sys_id": "y"} ":'
    document["journal"][0]["sys_created_by"] = ""  # an optional key written with its default
    document.update(action=None, action_args={}, caused_by_command=None)
    event = decode_event(_written(document))
    assert event.record_dict()["description"] == document["record"]["description"]
    assert event.journal[0].sys_created_by == ""


def test_nesting_up_to_the_limit_is_accepted() -> None:
    document = example("csm-case-update.json")
    nested: Any = "deepest"
    for _ in range(MAX_NESTING - 2):  # the envelope is level 1, the record level 2
        nested = {"a": nested}
    document["record"]["u_nested"] = nested
    assert decode_event(_written(document)).record_dict()["u_nested"] == nested


def test_the_fast_path_reads_the_envelopes_keys() -> None:
    def keys(struct: type[msgspec.Struct]) -> list[tuple[str, bool]]:
        return [(f.name, f.required) for f in msgspec.structs.fields(struct)]

    assert keys(StrictEnvelope) == keys(EventEnvelope)


@pytest.mark.parametrize(
    "path",
    [
        "sys_id",
        "record.short_description",
        "record.contact.value",
        "journal.0.value",
        "journal.0.element",
        "action_args.type",
    ],
)
def test_a_compact_message_that_repeats_a_key_is_refused(path: str) -> None:
    """Compact JSON as short as msgspec writes it: the decoder's one-comparison shortcut (same
    length as the parsed form encoded again) must not take a repeat for a compact message,
    even with journal keys left out (which the encoding adds back)."""
    document = example("csm-case-update.json")
    document["action_args"] = {"type": "normal"}  # refused later, but a repeat is found first
    for entry in document["journal"]:
        entry.pop("sys_created_by", None)
    *parents, last = path.split(".")
    target: Any = document
    for key in parents:
        target = target[int(key)] if isinstance(target, list) else target[key]
    items = list(target.items())
    target.clear()
    target["__first__"] = "b" * 32 if last in ("sys_id", "value") else "other"
    target.update(items)
    raw = _written(document, separators=(",", ":"), ensure_ascii=False).replace(
        b'"__first__"', json.dumps(last).encode()
    )
    with pytest.raises(DecodeError) as refused:
        decode_event(raw)
    assert refused.value.reason_code == "duplicate_key"
    compact = _written(example("csm-case-action-create-change.json"), separators=(",", ":"), ensure_ascii=False)
    assert (
        decode_event(compact).to_wire()
        == decode_event(_written(example("csm-case-action-create-change.json"))).to_wire()
    )
