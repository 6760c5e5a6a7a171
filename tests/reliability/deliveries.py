"""Ways a stream can reach the bridge besides "in order, once": for the property tests.

``causal_shuffle`` reorders events across records but keeps the order of any two events that
touch a common record (the event's own sys_id or any record it references): such events do not
commute, everything else does. ``with_redeliveries`` adds at-least-once copies (same event,
later), republished copies (new event id, same record version) and crash rewinds (a window
delivered again). ``swap_versions`` lets later versions of a record overtake earlier ones.
"""

from __future__ import annotations

import itertools
import json
import random
from collections import defaultdict
from collections.abc import Sequence

from bridgedev.simulate import SimMessage


def footprint(message: SimMessage) -> set[str]:
    """The records an event touches: its own and every record it references."""
    assert message.event is not None
    ids = {message.event["sys_id"]}
    ids.update(v["value"] for v in message.event["record"].values() if isinstance(v, dict) and v.get("value"))
    return ids


def causal_shuffle(messages: Sequence[SimMessage], rng: random.Random) -> list[SimMessage]:
    """A random order that keeps every pair of events with overlapping footprints in order."""
    previous: dict[str, int] = {}
    waits_for: list[set[int]] = []
    for i, message in enumerate(messages):
        waits_for.append({previous[r] for r in footprint(message) if r in previous})
        for record in footprint(message):
            previous[record] = i
    unblocks: dict[int, list[int]] = defaultdict(list)
    for i, before in enumerate(waits_for):
        for j in before:
            unblocks[j].append(i)
    pending = [len(before) for before in waits_for]
    ready = [i for i, n in enumerate(pending) if n == 0]
    order = []
    while ready:
        i = ready.pop(rng.randrange(len(ready)))
        order.append(messages[i])
        for k in unblocks[i]:
            pending[k] -= 1
            if pending[k] == 0:
                ready.append(k)
    assert len(order) == len(messages)
    return order


def republished(message: SimMessage, n: int) -> SimMessage:
    """The same record version published again under a new event id (an operator's replay)."""
    assert message.event is not None
    event = {**message.event, "event_id": f"{message.event['event_id']}-again-{n}"}
    return SimMessage(message.source, message.key, json.dumps(event).encode(), message.kind, event)


def with_redeliveries(
    messages: Sequence[SimMessage], rng: random.Random, *, copies: int, republishes: int, rewinds: int
) -> list[SimMessage]:
    """Copies and republished copies inserted later than their original; windows replayed.
    Only changes are republished: an action under a new event id is a new press (the contract),
    a request of its own, not a copy."""
    stream = list(messages)
    for n in range(copies + republishes):
        if n < copies:
            i = rng.randrange(len(stream))
            copy = stream[i]
        else:
            changes = [j for j, m in enumerate(stream) if m.event is not None and m.event.get("operation") != "action"]
            if not changes:
                continue
            i = rng.choice(changes)
            copy = republished(stream[i], n)
        stream.insert(rng.randrange(i + 1, len(stream) + 1), copy)
    for _ in range(rewinds):
        start = rng.randrange(len(stream))
        end = min(len(stream), start + rng.randrange(1, 80))
        stream[end:end] = stream[start:end]
    return stream


def swap_versions(messages: Sequence[SimMessage], rng: random.Random, swaps: int) -> list[SimMessage]:
    """Let a later version of a record overtake the version just before it, ``swaps`` times."""
    stream = list(messages)
    by_record: dict[str, list[int]] = defaultdict(list)
    for i, message in enumerate(stream):
        if message.event and message.event["operation"] in ("insert", "update"):
            by_record[message.event["sys_id"]].append(i)
    pairs = [(a, b) for positions in by_record.values() for a, b in itertools.pairwise(positions)]
    for a, b in rng.sample(pairs, min(swaps, len(pairs))):
        stream[a], stream[b] = stream[b], stream[a]
    return stream


def batches(stream: Sequence[SimMessage], rng: random.Random, largest: int) -> list[list[SimMessage]]:
    """Random batch boundaries."""
    out, i = [], 0
    while i < len(stream):
        size = rng.randint(1, largest)
        out.append(list(stream[i : i + size]))
        i += size
    return out
