"""The harness reads the bridge's phase metrics as the bridge exposes them: per-event figures
from the difference of two scrapes of a real `BridgeMetrics` registry."""

from __future__ import annotations

from prometheus_client import generate_latest

from bench.phases import parse, per_event
from bridge.observability.metrics import BridgeMetrics
from bridge.pipeline.batch import BatchResult
from bridge.pipeline.phases import PHASES, PhaseTimes


def _handled(metrics: BridgeMetrics, size: int, seconds: dict[str, float]) -> None:
    metrics.record_batch(BatchResult(), size, sum(seconds.values()))
    metrics.record_phases(PhaseTimes(wall=dict(seconds), cpu={p: s / 2 for p, s in seconds.items()}))


def test_figures_are_per_event_between_the_two_scrapes() -> None:
    metrics = BridgeMetrics()
    _handled(metrics, 1000, {"decode": 5.0})  # before the window: must not count
    before = parse(generate_latest(metrics.registry).decode())
    _handled(metrics, 300, {"decode": 0.03, "commit": 0.006})
    _handled(metrics, 100, {"decode": 0.01, "commit": 0.002, "settle": 0.004})
    after = parse(generate_latest(metrics.registry).decode())

    figures = per_event(before, after)

    assert figures is not None
    assert (figures["events"], figures["batches"], figures["events_per_batch"]) == (400, 2, 200.0)
    assert set(figures["wall_us"]) == set(PHASES)
    assert figures["wall_us"]["decode"] == 100.0 and figures["cpu_us"]["decode"] == 50.0
    assert figures["wall_us"]["commit"] == 20.0 and figures["wall_us"]["settle"] == 10.0
    assert figures["wall_us"]["flows"] == 0.0  # exported at 0 from the start
    assert figures["handler_wall_us"] == 130.0 and figures["handler_cpu_us"] == 65.0


def test_no_figures_without_both_scrapes_or_without_events() -> None:
    scrape = parse(generate_latest(BridgeMetrics().registry).decode())
    assert per_event(None, scrape) is None and per_event(scrape, None) is None
    assert per_event(scrape, scrape) is None
