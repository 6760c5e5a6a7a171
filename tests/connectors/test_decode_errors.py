"""Every reason code, on a realistic bad payload, with a PII canary in the bad place.

The detail must name the field, and neither it, the message, nor a formatted traceback may
contain the canary: DecodeErrors end up in logs and DLQ headers.
"""

from __future__ import annotations

import json
import pickle
import traceback
from collections.abc import Callable
from typing import Any

import pytest

from connectors.common import REASON_CODES, DecodeError, decode_event
from connectors.common.decoder import decode_checked
from connectors.common.events import CausedBy, Event, JournalEntry
from tests.connectors.examples import encode, event_examples, example

CANARY = "canary.pii@example.com"
Doc = dict[str, Any]


def _edit(name: str, change: Callable[[Doc], None]) -> bytes:
    document = example(name)
    change(document)
    return encode(document)


def _set(path: str, value: Any, name: str = "csm-case-update.json") -> bytes:
    def change(document: Doc) -> None:
        *parents, last = path.split(".")
        target: Any = document
        for key in parents:
            target = target[int(key)] if isinstance(target, list) else target[key]
        target[int(last) if isinstance(target, list) else last] = value

    return _edit(name, change)


def _delete(key: str) -> bytes:
    return _edit("csm-contact-insert.json", lambda d: d.pop(key))


def _repeated(path: str, value: Any) -> bytes:
    """The case update with the key at ``path`` written twice: first ``value``, then its own."""
    *parents, last = path.split(".")
    document = example("csm-case-update.json")
    target: Any = document
    for key in parents:
        target = target[int(key)] if isinstance(target, list) else target.setdefault(key, {})
    if last not in target:
        target[last] = "kept"
    items = list(target.items())
    target.clear()
    target["__first__"] = value
    target.update(items)
    return encode(document).replace(b'"__first__"', json.dumps(last).encode())


CASE = event_examples()["csm-case-update.json"]
ACTION = "csm-case-action-create-change.json"
CASES: list[tuple[str, bytes, str, str | None]] = [
    # (reason, raw, field named in the detail, topic_source)
    ("invalid_utf8", b'{"event_id": "\xff' + CANARY.encode() + b'"}', "message", None),
    (
        "invalid_utf8",
        _set("record.description", "x").replace(b'"x"', b'"\\udc00' + CANARY.encode() + b'"'),
        "message",
        None,
    ),
    ("invalid_json", CASE[:-40].replace(b"Escalated", CANARY.encode()), "message", None),
    ("invalid_json", _set("record.priority", 12345).replace(b"12345", b"NaN"), "message", None),
    # Valid syntax, but beyond any float: no system meant infinity.
    ("invalid_json", _set("record.priority", 12345).replace(b"12345", b"1e400"), "message", None),
    # Valid syntax, nested deeper than any parser here goes (msgspec and json both recurse).
    (
        "invalid_json",
        _set("u_canary", CANARY).replace(b'"' + CANARY.encode() + b'"', b"[" * 100_000 + b"]" * 100_000),
        "message",
        None,
    ),
    # Beyond the nesting the decoder allows (MAX_NESTING), whatever the stack's depth.
    (
        "invalid_json",
        _set("u_canary", CANARY).replace(b'"' + CANARY.encode() + b'"', b'{"a":' * 40 + b"1" + b"}" * 40),
        "message",
        None,
    ),
    ("invalid_json", b'{"a":' * 1000 + b"1" + b"}" * 1000, "message", None),
    # A key written twice: the parsers keep the last, so which one a system meant is unknown.
    ("duplicate_key", _repeated("sys_id", "b" * 32), "message", None),
    ("duplicate_key", _repeated("record.short_description", CANARY), "message", None),
    ("duplicate_key", _repeated("record.contact.value", "b" * 32), "message", None),
    ("duplicate_key", _repeated("journal.0.value", CANARY), "message", None),
    ("duplicate_key", _repeated("u_extra.x", CANARY), "message", None),
    ("duplicate_key", _repeated("sys_id", "b" * 32).replace(b'"sys_id":', b'"sys_id"  :'), "message", None),
    ("not_an_object", json.dumps([CANARY]).encode(), "message", None),
    ("not_an_object", b'"' + CANARY.encode() + b'"', "message", None),
    ("not_an_object", None, "message", None),  # a tombstone
    ("missing_field", _delete("table"), "table", None),
    ("missing_field", _delete("sys_mod_count"), "sys_mod_count", None),
    ("missing_field", _set("journal.0", {"element": "work_notes", "sys_created_by": CANARY}), "journal[0].value", None),
    ("missing_field", _set("action", None, ACTION), "action", None),
    ("wrong_type", _set("sys_mod_count", CANARY), "sys_mod_count", None),
    ("wrong_type", _set("sys_mod_count", 4), "sys_mod_count", None),
    ("wrong_type", _set("record", CANARY), "record", None),
    ("wrong_type", _set("record.short_description", [CANARY]), "record.short_description", None),
    ("wrong_type", _set("record.priority", 1), "record.priority", None),
    ("wrong_type", _set("record.close_notes", None), "record.close_notes", None),
    ("wrong_type", _set("journal", CANARY), "journal", None),
    ("wrong_type", _set("journal.0.value", {"text": CANARY}), "journal[0].value", None),
    ("wrong_type", _set("changed_fields", [CANARY, 7]), "changed_fields[1]", None),
    ("wrong_type", _set("caused_by_command", {"id": CANARY}), "caused_by_command", None),
    ("wrong_type", _set("source", ["csm", CANARY]), "source", None),
    ("invalid_sys_id", _set("sys_id", CANARY), "sys_id", None),
    ("invalid_sys_id", _set("sys_id", "C1659A27528573A105244296A480C759"), "sys_id", None),
    ("invalid_sys_id", _set("sys_id", "c1659a27528573a105244296a480c75\n"), "sys_id", None),
    ("invalid_reference", _set("record.contact", CANARY), "record.contact", None),
    ("invalid_reference", _set("record.contact", {"value": CANARY, "display_value": "Ada"}), "record.contact", None),
    ("invalid_reference", _set("record.contact.display_value", None), "record.contact", None),
    ("invalid_reference", _set("record.contact", {"value": "a" * 32}), "record.contact", None),
    ("invalid_reference", _set("record.contact", None), "record.contact", None),
    (
        "invalid_reference",
        _set("record.primary_contact", "bc426cb526c586b3fe29fb306dbd2614", "csm-account-insert.json"),
        "record.primary_contact",
        None,
    ),
    ("unknown_source", _set("source", CANARY), "source", None),
    ("unknown_source", _set("source", "CSM"), "source", None),
    ("source_mismatch", event_examples()["fsm-task-insert.json"], "source", "csm"),
    # and whichever way round: a CSM event on FSM's topic, an ITSM event on CSM's
    ("source_mismatch", event_examples()["csm-case-update.json"], "source", "fsm"),
    ("source_mismatch", event_examples()["itsm-incident-update.json"], "source", "csm"),
    ("unknown_table", _set("table", CANARY), "table", None),
    ("unknown_table", _set("table", "wm_order"), "table", None),
    ("unknown_operation", _set("operation", CANARY), "operation", None),
    ("unknown_operation", _set("operation", "UPDATE"), "operation", None),
    ("unknown_action", _set("action", CANARY, ACTION), "action", None),
    (
        "unknown_action",
        _edit("fsm-work-order-update.json", lambda d: d.update(operation="action", action="create_work_order")),
        "action",
        None,
    ),
    ("invalid_action_args", _set("action_args", {"type": CANARY}, ACTION), "action_args.type", None),
    ("invalid_action_args", _set("action_args", {"type": "standard"}, ACTION), "action_args.template", None),
    ("invalid_action_args", _set("action_args", {CANARY: "normal", "type": "normal"}, ACTION), "action_args", None),
    ("invalid_action_args", _set("action_args", {"type": 1}, ACTION), "action_args.type", None),
    (
        "invalid_action_args",
        _edit(ACTION, lambda d: d.update(action="create_request", action_args={})),
        "action_args.cat_item",
        None,
    ),
    (
        "invalid_action_args",
        _set("action_args", {"note": CANARY}, "csm-case-action-create-work-order.json"),
        "action_args",
        None,
    ),
    ("invalid_action_args", _set("action_args", {"type": "normal"}), "action_args", None),
    ("invalid_value", _set("event_id", ""), "event_id", None),
    ("invalid_value", _set("event_id", f" {CANARY} "), "event_id", None),
    ("invalid_value", _set("sys_updated_on", CANARY), "sys_updated_on", None),
    ("invalid_value", _set("journal.0.element", CANARY), "journal[0].element", None),
    # A journal entry's own timestamp is checked like the change's (the fast path takes an
    # entry stamped with the change's checked time as read; any other is checked).
    ("invalid_value", _set("journal.0.sys_created_on", CANARY), "journal[0].sys_created_on", None),
    ("invalid_value", _set("journal.0.sys_created_on", "2026-11-22T10:15:00Z"), "journal[0].sys_created_on", None),
    ("wrong_type", _set("journal.0.sys_created_on", 1764000000), "journal[0].sys_created_on", None),
    # Two faults: the one checked first is reported, on both paths (the record comes last).
    (
        "invalid_value",
        _edit(
            "csm-case-update.json",
            lambda d: (d["journal"][0].update(sys_created_on=CANARY), d["record"].update(priority=1)),
        ),
        "journal[0].sys_created_on",
        None,
    ),
    (
        "invalid_value",
        _edit("csm-case-update.json", lambda d: (d.update(sys_updated_on=CANARY), d["record"].update(priority=1))),
        "sys_updated_on",
        None,
    ),
    (
        "invalid_value",
        _edit("csm-case-update.json", lambda d: (d.update(event_id="e" * 65), d["record"].update(priority=1))),
        "event_id",
        None,
    ),
    (
        "invalid_value",
        _edit(
            "csm-case-update.json", lambda d: d["record"].update(number="CS" + "0" * 39, description=CANARY + "\x00")
        ),
        "record.number",
        None,
    ),
    ("invalid_value", _set("journal.0.element", "comments", "fsm-work-order-update.json"), "journal[0].element", None),
    ("invalid_value", _set("action", "create_incident"), "action", None),
    ("invalid_value", _set("sys_mod_count", "9" * 40), "sys_mod_count", None),
    ("invalid_value", _set("sys_mod_count", str(2**31)), "sys_mod_count", None),
    # Beyond what the store's columns hold (and what ServiceNow writes): refused here, with a
    # reason, instead of by the database at every retry.
    ("invalid_value", _set("event_id", "e" * 65), "event_id", None),
    ("invalid_value", _set("record.number", "CS" + "0" * 39), "record.number", None),
    # PostgreSQL's text cannot hold a NUL character, wherever it is.
    ("invalid_value", _set("record.short_description", CANARY + "\x00"), "record.short_description", None),
    ("invalid_value", _set("record.u_canary\x00", "x"), "record", None),
    ("invalid_value", _set("journal.0.value", CANARY + "\x00"), "journal[0]", None),
    ("invalid_value", _set("sys_updated_by", "\x00" + CANARY), "sys_updated_by", None),
    ("invalid_value", _set("u_canary", [{"x": "\x00"}]), "message", None),
]


@pytest.mark.parametrize(("reason", "raw", "field", "topic_source"), CASES)
def test_bad_payload_is_rejected_with_its_reason(reason: str, raw: bytes, field: str, topic_source: str | None) -> None:
    with pytest.raises(DecodeError) as caught:
        decode_event(raw, topic_source=topic_source)
    error = caught.value

    assert error.reason_code == reason
    assert error.detail.startswith(field + ":") or error.detail.startswith(field + ".")
    rendered = "".join(traceback.format_exception(error))
    for text in (error.detail, str(error), repr(error), rendered):
        assert CANARY not in text
        assert "canary" not in text
    assert error.__cause__ is None and error.__context__ is None
    with pytest.raises(DecodeError) as exact:  # the decoder's exact path says the same
        decode_checked(raw, topic_source=topic_source)
    assert (exact.value.reason_code, exact.value.detail) == (error.reason_code, error.detail)


def test_every_reason_code_is_covered() -> None:
    # `key_mismatch` compares the Kafka key with the body: the pipeline's check (tests/pipeline).
    assert {reason for reason, *_ in CASES} == REASON_CODES - {"key_mismatch"}


def test_decode_error_is_a_value_error_and_pickles() -> None:
    error = DecodeError("unknown_table", "table: expected a csm table of the contract")

    copy = pickle.loads(pickle.dumps(error))

    assert isinstance(copy, ValueError)
    assert (copy.reason_code, copy.detail) == (error.reason_code, error.detail)


def test_unknown_reason_codes_cannot_be_raised() -> None:
    with pytest.raises(ValueError, match="unknown reason code"):
        DecodeError("because", "x")  # type: ignore[arg-type]


def test_a_misconfigured_topic_source_is_a_programming_error() -> None:
    with pytest.raises(ValueError) as caught:
        decode_event(CASE, topic_source="servicenow")
    assert not isinstance(caught.value, DecodeError)


def test_escaped_backslash_before_u_is_not_mistaken_for_a_surrogate() -> None:
    raw = _set("record.description", "C:\\udc00\\path")

    assert decode_event(raw).record["description"] == "C:\\udc00\\path"


def test_largest_accepted_event_id_number_and_count() -> None:
    raw = _edit(
        "csm-case-update.json",
        lambda d: (
            d.update(event_id="e" * 64, sys_mod_count=str(2**31 - 1)),
            d["record"].update(number="CS" + "0" * 38),
        ),
    )
    event = decode_event(raw)

    assert (len(event.event_id), len(event.record_dict()["number"]), event.sys_mod_count) == (64, 40, 2**31 - 1)
    assert decode_checked(raw) == event  # the exact path draws the limits where the fast one does


@pytest.mark.parametrize("event_id", ["", " e1", "e1 ", "e\n1"])
def test_an_event_or_a_cause_built_in_code_needs_a_proper_event_id(event_id: str) -> None:
    values: dict[str, Any] = {
        "source": "fsm",
        "table": "wm_task",
        "operation": "update",
        "sys_id": "c" * 32,
        "sys_mod_count": 2,
        "record": {},
    }
    with pytest.raises(DecodeError) as caught:
        Event(event_id=event_id, **values)
    assert caught.value.reason_code == "invalid_value" and caught.value.detail.startswith("event_id:")
    if not event_id:
        with pytest.raises(ValueError, match="caused_by.event_id"):
            CausedBy(event_id=event_id, source="fsm", table="wm_task", sys_id="c" * 32)


def test_an_escaped_backslash_before_u0000_is_text_not_a_nul() -> None:
    raw = _set("record.description", "C:\\u0000\\path")

    assert b"\\u0000" in raw
    assert decode_event(raw).record["description"] == "C:\\u0000\\path"


def test_an_event_built_in_code_is_held_to_the_decoders_journal_timestamps() -> None:
    """On the wire a malformed entry timestamp never reaches ``Event`` (the wire Structs refuse
    it first); code that builds an ``Event`` itself (replays, the simulators) gets the
    decoder's own answer, and an entry stamped with the change's checked time passes."""
    values: dict[str, Any] = {
        "event_id": "e1",
        "source": "csm",
        "table": "sn_customerservice_case",
        "operation": "update",
        "sys_id": "c" * 32,
        "sys_mod_count": 2,
        "record": {},
        "sys_updated_on": "2026-11-22 10:15:00",
    }
    decoded_document = example("csm-case-update.json")
    decoded_document["journal"][0]["sys_created_on"] = "yesterday"
    with pytest.raises(DecodeError) as decoded:
        decode_event(encode(decoded_document))
    for stamp in ("yesterday", "0", "2026-11-22"):  # after, before and a prefix of the change's time
        with pytest.raises(DecodeError) as built:
            Event(**values, journal=(JournalEntry("work_notes", "Escalated", stamp, "agent"),))
        assert (
            (built.value.reason_code, built.value.detail)
            == (decoded.value.reason_code, decoded.value.detail)
            == ("invalid_value", "journal[0].sys_created_on: expected 'YYYY-MM-DD HH:MM:SS'")
        )
    stamped = Event(**values, journal=(JournalEntry("work_notes", "Escalated", "2026-11-22 10:15:00", "agent"),))
    assert stamped.journal[0].sys_created_on == "2026-11-22 10:15:00"
    for entry in (JournalEntry("work_notes", 42, "", "agent"), JournalEntry("work_notes", "x", "", None)):  # type: ignore[arg-type]
        with pytest.raises(DecodeError) as wrong:
            Event(**values, journal=(entry,))
        assert (wrong.value.reason_code, wrong.value.detail) == ("wrong_type", "journal[0]: expected strings")
