"""Broken events, the kinds a real integration sees now and then.

Each is made from a copy of a valid envelope and named after the reason code the bridge's
decoder should report (``invalid_json``, ``unknown_table``, …), so tests can check that every
one lands in the dead-letter topic with the right reason. Making one never changes any record.
"""

from __future__ import annotations

import copy
import random
from collections.abc import Callable
from typing import Any

from bridgedev.simulate.events import encode

Corruptor = Callable[[dict[str, Any], random.Random], bytes | None]


def _invalid_json(event: dict[str, Any], rng: random.Random) -> bytes:
    raw = encode(event)
    return raw[: rng.randrange(1, len(raw) // 2)]


def _invalid_utf8(event: dict[str, Any], rng: random.Random) -> bytes:
    raw = encode(event)
    cut = rng.randrange(1, len(raw) - 1)
    return raw[:cut] + b"\xff\xfe" + raw[cut:]


def _not_an_object(event: dict[str, Any], rng: random.Random) -> bytes:
    return b"[" + encode(event) + b"]"


def _missing_field(event: dict[str, Any], rng: random.Random) -> bytes:
    del event[rng.choice(("sys_id", "table", "operation", "record", "sys_mod_count"))]
    return encode(event)


def _wrong_type(event: dict[str, Any], rng: random.Random) -> bytes:
    event[rng.choice(("record", "changed_fields", "journal"))] = 42
    return encode(event)


def _invalid_sys_id(event: dict[str, Any], rng: random.Random) -> bytes:
    event["sys_id"] = rng.choice((event["sys_id"].upper(), event["sys_id"][:31], "not-a-sys-id"))
    return encode(event)


def _invalid_reference(event: dict[str, Any], rng: random.Random) -> bytes | None:
    refs = [field for field, value in event["record"].items() if isinstance(value, dict)]
    if not refs:
        return None
    event["record"][rng.choice(refs)]["value"] = "ACME-42"
    return encode(event)


def _unknown_source(event: dict[str, Any], rng: random.Random) -> bytes:
    event["source"] = "erp"
    return encode(event)


def _source_mismatch(event: dict[str, Any], rng: random.Random) -> bytes:
    event["source"] = rng.choice([s for s in ("csm", "fsm", "itsm") if s != event["source"]])
    return encode(event)


def _unknown_table(event: dict[str, Any], rng: random.Random) -> bytes:
    event["table"] = rng.choice(("sn_customerservice_cas", "x_acme_widget", "sys_user"))
    return encode(event)


def _unknown_operation(event: dict[str, Any], rng: random.Random) -> bytes:
    event["operation"] = rng.choice(("upsert", "UPDATE", ""))
    return encode(event)


def _unknown_action(event: dict[str, Any], rng: random.Random) -> bytes:
    event.update(operation="action", action="create_spaceship", action_args={})
    return encode(event)


def _invalid_value(event: dict[str, Any], rng: random.Random) -> bytes:
    """A value no store column can hold: the kind that once stalled a PostgreSQL store."""
    kind = rng.randrange(3)
    if kind == 0:
        event["event_id"] = f"{event['event_id']}:{'retry-' * 11}"  # over 64 characters
    elif kind == 1:
        event["record"]["number"] = "X" * 41  # over ServiceNow's 40
    else:
        event["record"]["short_description"] = "paper jam\x00tray 2"  # a NUL character
    return encode(event)


CORRUPTORS: dict[str, Corruptor] = {
    "invalid_json": _invalid_json,
    "invalid_utf8": _invalid_utf8,
    "not_an_object": _not_an_object,
    "missing_field": _missing_field,
    "wrong_type": _wrong_type,
    "invalid_sys_id": _invalid_sys_id,
    "invalid_reference": _invalid_reference,
    "unknown_source": _unknown_source,
    "source_mismatch": _source_mismatch,
    "unknown_table": _unknown_table,
    "unknown_operation": _unknown_operation,
    "unknown_action": _unknown_action,
    "invalid_value": _invalid_value,
}


def corrupt(event: dict[str, Any], rng: random.Random, event_id: str) -> tuple[str, bytes]:
    """A broken copy of ``event`` with a fresh ``event_id``: (expected reason code, raw bytes)."""
    while True:
        reason = rng.choice(sorted(CORRUPTORS))
        broken = copy.deepcopy(event)
        broken["event_id"] = event_id
        raw = CORRUPTORS[reason](broken, rng)
        if raw is not None:
            return reason, raw
