"""The benchmark harness still works end to end: a tiny run of every variant on the session's
broker and a real PostgreSQL, and the results carry every figure the report promises.

Speed is not asserted (benchmarks are not tests); correctness of the runs is: every bridge run
publishes exactly what the calibration run published, and the passthroughs copy as many.
"""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import pytest

from bench.config import QUICK
from bench.harness import run_benchmark
from bench.report import write_all
from bench.summary import RATIOS, summarize
from bridge.pipeline.phases import PHASES
from tests.fixtures.postgres import postgres_url  # noqa: F401 - the session's PostgreSQL server

pytestmark = [pytest.mark.kafka, pytest.mark.postgres]

VARIANTS = {"b0", "b1", "bridge_sqlite", "bridge_sqlite_large_store", "bridge_sqlite_extra_rules", "bridge_postgres"}
RUN_FIGURES = {"events_per_s", "cpu_us_per_event", "peak_rss_mib", "steady_rss_mib", "outputs"}
LATENCY_FIGURES = {"p50_ms", "p90_ms", "p99_ms", "max_ms", "outputs_measured"}


async def test_a_tiny_run_reports_every_metric(
    kafka_bootstrap: str,
    postgres_url: str,  # noqa: F811
    tmp_path: Path,
) -> None:
    config = replace(
        QUICK,
        events=300,
        blocks=1,
        links=(100, 1_000),
        latency_seconds=3.0,
        low_rate_seconds=3.0,
        idle_seconds=2.0,
        latency_fixed_rates=(50.0,),
        bootstrap=kafka_bootstrap,
        postgres_url=postgres_url,
        out_dir=tmp_path,
        run_timeout_s=120.0,
    )
    results = await run_benchmark(config, say=lambda _line: None)
    results["summary"] = summarize(results)
    write_all(results, tmp_path)

    saved = json.loads((tmp_path / "results.json").read_text())
    summary = saved["summary"]
    assert set(summary["variants"]) == VARIANTS
    for name, figures in summary["variants"].items():
        assert figures["events_per_s"] > 0 and figures["cpu_us_per_event"] > 0, name
        assert figures["peak_rss_mib"] > 0 and figures["steady_rss_mib"] > 0, name
    for run in saved["runs"]:
        assert RUN_FIGURES <= set(run)
        # throughput runs double as correctness runs: the same outputs as the calibration
        assert run["outputs"] == saved["meta"]["workload"]["outputs"], run["variant"]
    assert saved["meta"]["workload"]["unattributed_outputs"] == 0
    assert set(summary["ratios"]) == {name for name, *_ in RATIOS}
    half = str(float(saved["half_max_rate"]))
    assert set(summary["latency"]["by_rate"][half]) == {"b0", "bridge_sqlite"}
    for figures in summary["latency"]["by_rate"][half].values():
        assert LATENCY_FIGURES <= set(figures) and figures["outputs_measured"] > 0
    assert summary["latency"]["p99_added_ms"] is not None
    assert set(summary["latency"]["p99_added_ms_by_rate"]) == {"50.0", half}
    assert summary["memory"]["bridge_steady_rss_mib"] > 0
    low = saved["low_rate"]  # a normal day: CPU at a low rate, per batch, and idle
    assert low["batches"] > 0 and low["events_per_batch"] >= 1
    assert low["cpu_share"] > 0 and low["cpu_ms_per_batch"] >= low["handler_cpu_ms_per_batch"] > 0
    assert 0 < saved["idle"]["cpu_share"] < low["cpu_share"]
    paired = saved["paired_rules"]  # the rules target is judged on it, not on the drains
    assert paired["events"] > 0 and paired["ratio"] > 0
    assert paired["base_cpu_us_per_event"] > 0 and paired["variant_cpu_us_per_event"] > 0
    for run in saved["runs"]:  # the bridge's own phase metrics, scraped around each drain
        if run["variant"].startswith("bridge"):
            phases = run["phases"]
            assert phases["events"] > 0 and phases["handler_wall_us"] > 0, run["variant"]
            assert set(phases["wall_us"]) == set(PHASES), run["variant"]
            # "settle" may round to 0: a batch with nothing in flight before it waits for nothing
            assert all(phases["wall_us"][p] > 0 for p in PHASES if p != "settle"), phases
        else:
            assert run["phases"] is None
    assert set(summary["phases"]["by_variant"]) == VARIANTS - {"b0", "b1"}
    assert set(summary["phases"]["budgets"]) == {"bridge_sqlite", "bridge_postgres"}
    at_half = summary["phases"]["at_half_max_rate"]
    assert at_half["busy_share"] > 0
    assert at_half["cores"]["machine"] >= at_half["cores"]["variant"] > 0
    names = {t["name"] for t in summary["targets"]}
    assert names >= {
        "bridge on SQLite ≥ 30% of B0",
        "bridge on PostgreSQL ≥ 20% of B0",
        "1M links ≥ 90% of 10k links",
        "1,000 irrelevant rules cost < 5%",
        "steady RSS in a full-speed drain ≤ 150 MiB",
        "bridge CPU at 50 events/s ≤ 5% of a core",
    }
    assert any(name.startswith("CPU for a batch of one event") for name in names)
    report = (tmp_path / "report.md").read_text()
    assert "## A normal day" in report
    assert "## Targets" in report and "bridge_postgres" in report
    assert "## Mapping rules, paired batch by batch" in report
    assert "## Where the bridge's time goes" in report and "µs per event** for everything" in report
    assert (tmp_path / "throughput.png").read_bytes().startswith(b"\x89PNG")
