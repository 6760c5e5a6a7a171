"""The workload every variant sees: the simulator's stream for one seed, produced once per use.

``fanouts`` (from a calibration run of the bridge) says how many messages the bridge published
for each input message: its commands (by ``caused_by.event_id``, on the first copy of an event
id) plus its dead letters (by original topic/partition/offset). The passthroughs copy each input
that many times, so they move the same number of outputs in the same batches.
"""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from bench.kafka_io import OutMessage, create_topics, produce, unique
from bench.variants import FANOUT_HEADER
from bridgedev.simulate import SimMessage, simulation_stream

SOURCES = ("csm", "fsm", "itsm")


def build_stream(seed: int, size: str, count: int) -> list[SimMessage]:
    """The population's inserts and ``count`` changes (standard mix: duplicates, malformed…)."""
    return list(simulation_stream(seed, size=size, mix="standard", count=count))


@dataclass
class InputSet:
    """The stream produced into a fresh trio of events topics."""

    topics: dict[str, str]
    total: int
    positions: list[tuple[str, int, int]] = field(default_factory=list)  # per message, in order


async def produce_inputs(bootstrap: str, stream: list[SimMessage], fanouts: list[int] | None = None) -> InputSet:
    prefix = unique("in")
    topics = {source: f"{prefix}.{source}.events" for source in SOURCES}
    await create_topics(bootstrap, topics.values())
    messages = [
        OutMessage(topics[m.source], m.key, m.value, ((FANOUT_HEADER, str(fanouts[i]).encode()),) if fanouts else ())
        for i, m in enumerate(stream)
    ]
    metadata = await produce(bootstrap, messages)
    return InputSet(topics, len(messages), [(md.topic, md.partition, md.offset) for md in metadata])


@dataclass
class Calibration:
    fanouts: list[int]
    outputs: int
    unattributed: int  # outputs no input could be found for (should be 0)
    by_topic: dict[str, int]


def calibrate(stream: list[SimMessage], inputs: InputSet, outputs: list[Any], names: dict[str, str]) -> Calibration:
    """Per input message, how many of ``outputs`` (the bridge's, read back) it caused."""
    by_event: Counter[str] = Counter()
    by_position: Counter[tuple[str, int, int]] = Counter()
    by_topic: Counter[str] = Counter()
    logical = {topic: name for name, topic in names.items()}
    for record in outputs:
        by_topic[logical.get(record.topic, record.topic)] += 1
        headers = {k: v.decode() for k, v in record.headers or ()}
        if "x-bridge-original-offset" in headers:
            by_position[
                (
                    headers["x-bridge-original-topic"],
                    int(headers["x-bridge-original-partition"]),
                    int(headers["x-bridge-original-offset"]),
                )
            ] += 1
            continue
        cause = (json.loads(record.value).get("caused_by") or {}).get("event_id")
        if cause:
            by_event[cause] += 1
    fanouts, seen = [], set()
    for message, position in zip(stream, inputs.positions, strict=True):
        count = by_position.get(position, 0)
        event_id = (message.event or {}).get("event_id") if not message.kind.startswith("malformed") else None
        if event_id and event_id not in seen:
            seen.add(event_id)
            count += by_event.get(event_id, 0)
        fanouts.append(count)
    return Calibration(fanouts, len(outputs), len(outputs) - sum(fanouts), dict(sorted(by_topic.items())))
