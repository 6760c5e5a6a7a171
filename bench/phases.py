"""Where a running bridge's time goes, read from its own metrics over a measured window.

The bridge counts wall-clock and CPU seconds per phase of handling batches
(``bridge_batch_phase_seconds`` / ``bridge_batch_phase_cpu_seconds``; see
``bridge.pipeline.phases``). The harness scrapes ``/metrics`` when a window begins and when it
ends; the differences, divided by the events handled in between (``bridge_batch_size_sum``),
are microseconds per event per phase. What the process spent outside the phases (the consume
loop, FastStream, the relay, the sampler, the checkpoint thread) is its CPU per event over the
window minus the phases' CPU (``bench.summary``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import httpx
from prometheus_client.parser import text_string_to_metric_families

from bridge.pipeline.phases import PHASES

_WALL = "bridge_batch_phase_seconds"
_CPU = "bridge_batch_phase_cpu_seconds"
_BATCH = "bridge_batch_size"


@dataclass(frozen=True)
class PhaseScrape:
    """Cumulative totals at one moment."""

    wall: dict[str, float]
    cpu: dict[str, float]
    events: float
    batches: float


async def scrape(port: int) -> PhaseScrape | None:
    """The bridge's phase totals now; ``None`` when its HTTP surface does not answer."""
    try:
        async with httpx.AsyncClient(timeout=5.0) as client:
            response = await client.get(f"http://127.0.0.1:{port}/metrics")
    except httpx.HTTPError:
        return None
    if response.status_code != 200:
        return None
    return parse(response.text)


def parse(text: str) -> PhaseScrape:
    wall: dict[str, float] = {}
    cpu: dict[str, float] = {}
    events = batches = 0.0
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            if sample.name == f"{_WALL}_total":
                wall[sample.labels["phase"]] = sample.value
            elif sample.name == f"{_CPU}_total":
                cpu[sample.labels["phase"]] = sample.value
            elif sample.name == f"{_BATCH}_sum":
                events = sample.value
            elif sample.name == f"{_BATCH}_count":
                batches = sample.value
    return PhaseScrape(wall, cpu, events, batches)


def per_event(before: PhaseScrape | None, after: PhaseScrape | None) -> dict[str, Any] | None:
    """µs per event of each phase between two scrapes (wall and CPU), and the events and
    batches handled in between; ``None`` when either scrape failed or nothing was handled."""
    if before is None or after is None or after.events <= before.events:
        return None
    events = after.events - before.events
    batches = after.batches - before.batches

    def delta(now: dict[str, float], then: dict[str, float]) -> dict[str, float]:
        return {p: round((now.get(p, 0.0) - then.get(p, 0.0)) / events * 1e6, 1) for p in PHASES}

    wall, cpu = delta(after.wall, before.wall), delta(after.cpu, before.cpu)
    return {
        "events": int(events),
        "batches": int(batches),
        "events_per_batch": round(events / batches, 1) if batches else None,
        "wall_us": wall,
        "cpu_us": cpu,
        "handler_wall_us": round(sum(wall.values()), 1),
        "handler_cpu_us": round(sum(cpu.values()), 1),
    }
