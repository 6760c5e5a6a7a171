"""Commands as they are on the wire, read from the real command topics: key, headers, order.

What is checked comes from the contract (the key) and the bridge's documentation (README's
"The contract it speaks" and "Ordering", ``docs/asyncapi.yaml``'s command headers), not from
its code:

* the key is the target record's ``sys_id``, or the ``correlation_id`` for an insert;
* every documented header is there: ``x-bridge-message-id`` (the ``command_id``),
  ``x-bridge-mapping-version`` (``mappings/bridge.yaml``'s ``version``), ``x-bridge-mapping-hash``
  (a SHA-256, the same on every command of one mapping set), ``x-bridge-cause-event`` (the
  ``event_id`` of an input event, the one the payload's ``caused_by`` names),
  ``x-bridge-rule`` (not empty), ``content-type: application/json`` and ``correlation_id``
  (the message id again); a republished copy carries the same headers;
* the commands for one record are published in the order they were decided: the first copies
  on the record's partition follow the outbox's sequence, and two commands caused by events of
  one source record follow those events' order.
"""

from __future__ import annotations

import json
import re
from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
from sqlalchemy import select

from bridge.settings import Settings
from bridge.store.engine import create_engine
from bridge.store.schema import outbox
from bridgedev.simulate import SimMessage
from tests.reliability.kafka_tools import read_to_end

MAPPINGS = Path(__file__).resolve().parents[2] / "mappings"
HEADERS = (
    "x-bridge-message-id",
    "x-bridge-mapping-version",
    "x-bridge-mapping-hash",
    "x-bridge-cause-event",
    "x-bridge-rule",
    "content-type",
    "correlation_id",
)
SHA256 = re.compile(r"[0-9a-f]{64}")


@dataclass(frozen=True)
class WireCommand:
    topic: str
    partition: int
    offset: int
    key: bytes | None
    headers: dict[str, str]
    payload: bytes

    @property
    def command(self) -> dict[str, Any]:
        return dict(json.loads(self.payload))


async def wire_commands(settings: Settings) -> list[WireCommand]:
    """Every record of the command topics, in (topic, partition, offset) order."""
    records = await read_to_end(settings, settings.topics.commands().values())
    found = [
        WireCommand(r.topic, r.partition, r.offset, r.key, {k: v.decode() for k, v in r.headers}, r.value)
        for r in records
    ]
    return sorted(found, key=lambda w: (w.topic, w.partition, w.offset))


def for_systems(wire: Sequence[WireCommand], settings: Settings) -> list[tuple[str, bytes]]:
    """``(system, payload)`` in each partition's order, as each system reads its topic."""
    system_of = {topic: system for system, topic in settings.topics.commands().items()}
    return [(system_of[w.topic], w.payload) for w in wire]


def mapping_version() -> str:
    return str(yaml.safe_load((MAPPINGS / "bridge.yaml").read_text())["version"])


async def decided_order(url: str) -> dict[str, int]:
    """The outbox's sequence (the order the bridge decided its commands in), by message id."""
    engine = create_engine(url, writer=False)
    try:
        async with engine.connect() as conn:
            rows = await conn.execute(select(outbox.c.message_id, outbox.c.seq))
            return {str(message_id): int(seq) for message_id, seq in rows}
    finally:
        await engine.dispose()


def wire_problems(
    wire: Sequence[WireCommand], messages: Sequence[SimMessage], decided: Mapping[str, int] | None = None
) -> list[str]:
    """Everything on the wire that breaks the documented key, headers or per-record order."""
    problems: list[str] = []
    events = {str(m.event["event_id"]): (i, m.event) for i, m in enumerate(messages) if m.event is not None}
    version, hashes = mapping_version(), set()
    first_headers: dict[str, dict[str, str]] = {}
    for w in wire:
        command = w.command
        command_id = str(command["command_id"])
        expected_key = (command["sys_id"] or command["correlation_id"]).encode()
        if w.key != expected_key:
            problems.append(f"{command_id}: key {w.key!r}, expected {expected_key!r}")
        missing = [h for h in HEADERS if h not in w.headers]
        if missing:
            problems.append(f"{command_id}: headers {missing} missing")
            continue
        h = w.headers
        cause = (command.get("caused_by") or {}).get("event_id")
        for name, got, want in (
            ("message-id", h["x-bridge-message-id"], command_id),
            ("correlation_id", h["correlation_id"], command_id),
            ("mapping-version", h["x-bridge-mapping-version"], version),
            ("cause-event", h["x-bridge-cause-event"], cause),
            ("content-type", h["content-type"], "application/json"),
        ):
            if got != want:
                problems.append(f"{command_id}: header {name} {got!r}, expected {want!r}")
        if h["x-bridge-cause-event"] not in events:
            problems.append(f"{command_id}: cause event {h['x-bridge-cause-event']} is no input event")
        if not SHA256.fullmatch(h["x-bridge-mapping-hash"]) or not h["x-bridge-rule"]:
            problems.append(f"{command_id}: mapping hash {h['x-bridge-mapping-hash']!r}, rule {h['x-bridge-rule']!r}")
        hashes.add(h["x-bridge-mapping-hash"])
        if first_headers.setdefault(command_id, h) != h:
            problems.append(f"{command_id}: a copy with other headers: {h} vs {first_headers[command_id]}")
    if len(hashes) > 1:
        problems.append(f"one mapping set, several hashes: {sorted(hashes)}")
    problems.extend(_order_problems(wire, events, decided))
    return problems


def _order_problems(
    wire: Sequence[WireCommand], events: Mapping[str, tuple[int, Any]], decided: Mapping[str, int] | None
) -> list[str]:
    """Per target record (topic, the payload's sys_id or correlation_id, whatever the key):
    one partition, first copies in decided order, and causes in order."""
    first: dict[tuple[str, str], list[WireCommand]] = defaultdict(list)
    seen: set[str] = set()
    partitions: dict[tuple[str, str], set[int]] = defaultdict(set)
    for w in wire:  # sorted by (topic, partition, offset)
        command = w.command
        target = (w.topic, str(command["sys_id"] or command["correlation_id"]))
        partitions[target].add(w.partition)
        if command["command_id"] not in seen:
            seen.add(str(command["command_id"]))
            first[target].append(w)
    problems = [
        f"{key}: commands of one record on partitions {sorted(p)}" for key, p in partitions.items() if len(p) > 1
    ]
    for (topic, key), commands in first.items():
        ids = [str(w.command["command_id"]) for w in commands]
        if decided is not None:
            seqs = [decided.get(i, -1) for i in ids]
            if seqs != sorted(seqs):
                problems.append(f"{topic} {key}: published in the order {ids}, decided {seqs}")
        last_cause: dict[str, int] = {}
        for w in commands:
            cause = events.get(w.headers.get("x-bridge-cause-event", ""))
            if cause is None:
                continue
            position, event = cause
            source = str(event["sys_id"])
            if position < last_cause.get(source, -1):
                problems.append(
                    f"{topic} {key}: {w.command['command_id']} (caused by an earlier "
                    f"event of {source}) published after a later one's command"
                )
            last_cause[source] = max(position, last_cause.get(source, -1))
    return problems
