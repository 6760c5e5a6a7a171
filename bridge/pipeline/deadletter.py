"""Dead letters: input that cannot be processed, kept with its context and published to the DLQ.

Headers carry where the input came from and why it failed — never the payload's values.
"""

from __future__ import annotations

import hashlib
from datetime import datetime
from typing import Any

from sqlalchemy import Column, String, select

from bridge.pipeline.outbox import HEADER_PREFIX
from bridge.pipeline.records import RawRecord
from bridge.store.plan import Fetch, Plan
from bridge.store.schema import dead_letters, outbox
from bridge.store.sql import Statement, id_list
from bridge.store.unit_of_work import BatchWrites


def _max_length(column: Column[Any]) -> int:
    """The declared length of a ``String(n)`` column."""
    if not isinstance(column.type, String) or column.type.length is None:
        raise TypeError(f"{column} is not a String column with a length")
    return column.type.length


_MAX_KEY = _max_length(outbox.c.msg_key)
_MAX_ERROR_CLASS = _max_length(dead_letters.c.error_class)


def dead_letter_id(raw: RawRecord) -> str:
    """Stable per input position: the same record dead-lettered twice is one entry."""
    return hashlib.sha256(f"{raw.topic}\0{raw.partition}\0{raw.offset}".encode()).hexdigest()[:32]


def replay_count_of(raw: RawRecord) -> int:
    """How many times ``bridge dlq retry`` re-injected this record, from its header; 0 when the
    header is absent or is no count (any producer can set headers: a bad one must not make the
    record impossible to dead-letter)."""
    value = raw.header(HEADER_PREFIX + "replay-count") or ""
    if value.isascii() and value.isdigit() and len(value) <= 9:  # the column is a 32-bit integer
        return int(value)
    return 0


def dead_letter_rows(
    raw: RawRecord,
    *,
    stage: str,
    reason_code: str,
    error: BaseException,
    detail: str,
    dlq_topic: str,
    mapping_version: str | None,
    now: datetime,
    event_id: str | None = None,
    sys_id: str | None = None,
    replay_count: int = 0,
) -> tuple[dict[str, Any], dict[str, Any]]:
    """The ``dead_letters`` row and the outbox row that publishes it to the DLQ topic."""
    dl_id = dead_letter_id(raw)
    payload = raw.value or b""
    error_class = type(error).__name__[:_MAX_ERROR_CLASS]
    # The input's key keeps a record's dead letters in order; one no column could hold (too
    # long, a NUL) is no record's key (the contract keys by sys_id): the entry's id stands in.
    key = (raw.key or b"").decode("utf-8", "replace")
    key = (key if len(key) <= _MAX_KEY and "\x00" not in key else "") or sys_id or dl_id
    entry = {
        "id": dl_id,
        "source_topic": raw.topic,
        "partition": raw.partition,
        "offset": raw.offset,
        "stage": stage,
        "reason_code": reason_code,
        "error_class": error_class,
        # An exception's text may quote anything; PostgreSQL's text cannot hold a NUL.
        "detail": detail[:2000].replace("\x00", "\\x00"),
        "event_id": event_id,
        "sys_id": sys_id,
        "payload": payload,
        "mapping_version": mapping_version,
        "replay_count": replay_count,
        "status": "new",
        "created_at": now,
    }
    headers = {
        HEADER_PREFIX + "dead-letter-id": dl_id,
        HEADER_PREFIX + "original-topic": raw.topic,
        HEADER_PREFIX + "original-partition": str(raw.partition),
        HEADER_PREFIX + "original-offset": str(raw.offset),
        HEADER_PREFIX + "stage": stage,
        HEADER_PREFIX + "error-class": error_class,
        HEADER_PREFIX + "reason": reason_code,
        HEADER_PREFIX + "mapping-version": mapping_version or "",
        HEADER_PREFIX + "replay-count": str(replay_count),
        "content-type": "application/octet-stream",  # the input's bytes, whatever they are
    }
    outbox_row = {
        "message_id": "dlq-" + dl_id,
        "kind": "dead_letter",
        "topic": dlq_topic,
        "msg_key": key,
        "payload": payload,
        "headers": headers,
        "target": None,
        "target_table": None,
        "target_sys_id": None,
        "correlation_id": None,
        "cause_event_id": event_id,
        "cause_sys_id": sys_id,
        "rule": "dead_letter",
        "mapping_version": mapping_version,
        "created_at": now,
        "sent_at": None,
    }
    return entry, outbox_row


_KNOWN = Statement(
    "known_dead_letters", lambda d: select(dead_letters.c.id).where(dead_letters.c.id.in_(id_list("ids", d))), "ids"
)


def known_plan(writes: BatchWrites) -> Plan[set[str]]:
    """The ids of the dead letters in ``writes`` that the store already has."""
    if not writes.dead_letters:
        return set()
    rows = yield Fetch(_KNOWN, {"ids": [entry["id"] for entry in writes.dead_letters]})
    return {row[0] for row in rows}


def drop_known(writes: BatchWrites, known: set[str]) -> None:
    """Leave out of ``writes`` the dead letters the store already has (the same input position,
    dead-lettered before: a redelivered batch, a replay): their entry stands, and their outbox
    row was published then, or is still the relay's to publish. So a dead letter is published
    to the topic once, however often its record is processed."""
    if known:
        writes.dead_letters[:] = [e for e in writes.dead_letters if e["id"] not in known]
        writes.outbox[:] = [
            row
            for row in writes.outbox
            if row["kind"] != "dead_letter" or row["message_id"].removeprefix("dlq-") not in known
        ]
