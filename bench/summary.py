"""From the raw runs to the figures the issue asks for: medians, pair-by-pair ratios, targets."""

from __future__ import annotations

import statistics
from collections import defaultdict
from typing import Any

#: (name, numerator variant, denominator variant, minimum ratio or None, the target in words)
RATIOS = (
    ("bridge_sqlite_vs_b0", "bridge_sqlite", "b0", 0.30, "bridge on SQLite ≥ 30% of B0"),
    ("bridge_postgres_vs_b0", "bridge_postgres", "b0", 0.20, "bridge on PostgreSQL ≥ 20% of B0"),
    ("large_store_vs_small_store", "bridge_sqlite_large_store", "bridge_sqlite", 0.90, "1M links ≥ 90% of 10k links"),
    # Informative only: drains differ by more than 5% from noise alone. The target is judged on
    # the paired in-process measurement (``bench.paired``, RULES_TARGET below).
    (
        "extra_rules_vs_shipped_rules",
        "bridge_sqlite_extra_rules",
        "bridge_sqlite",
        None,
        "1,000 irrelevant rules, drains (see the paired measurement)",
    ),
    ("b1_vs_b0", "b1", "b0", None, "FastStream passthrough / B0 (framework tax)"),
    ("bridge_sqlite_vs_b1", "bridge_sqlite", "b1", None, "bridge on SQLite / B1"),
)
RULES_TARGET = ("1,000 irrelevant rules cost < 5%", 0.95)
#: rate (events/s) → the most p99 latency the bridge may add over B0 at it (issue 20)
P99_ADDED_TARGETS_MS = {100.0: 10.0, 1000.0: 50.0}
STEADY_RSS_TARGET_MIB = 150.0
BATCH_OF_ONE_CPU_TARGET_MS = 1.5
LOW_RATE_CPU_TARGET = 0.05


def summarize(results: dict[str, Any]) -> dict[str, Any]:
    runs: dict[str, dict[int, dict[str, Any]]] = defaultdict(dict)
    for run in results["runs"]:
        runs[run["variant"]][run["block"]] = run
    variants = {name: _variant(list(by_block.values())) for name, by_block in runs.items()}
    ratios = {}
    for name, top, bottom, target, label in RATIOS:
        if top not in runs or bottom not in runs:
            continue
        pairs = [
            runs[top][b]["events_per_s"] / runs[bottom][b]["events_per_s"]
            for b in sorted(runs[top])
            if b in runs[bottom] and runs[bottom][b]["events_per_s"]
        ]
        median = statistics.median(pairs) if pairs else 0.0
        ratios[name] = {
            "label": label,
            "pairs": [round(p, 3) for p in pairs],
            "median": round(median, 3),
            "target": target,
            "met": None if target is None else median >= target,
        }
    latency = _latency(results)
    memory = _memory(results, variants)
    targets = [
        {"name": r["label"], "value": r["median"], "unit": "ratio", "target": r["target"], "met": r["met"]}
        for name, r in ratios.items()
        if r["target"] is not None
    ]
    paired = results.get("paired_rules")
    if paired:
        name, minimum = RULES_TARGET
        targets.append(
            {
                "name": name,
                "value": paired["ratio"],
                "unit": "ratio",
                "target": minimum,
                "met": paired["ratio"] >= minimum,
            }
        )
    for rate, limit in P99_ADDED_TARGETS_MS.items():
        added = latency["p99_added_ms_by_rate"].get(str(rate))
        if added is not None:
            targets.append(
                {
                    "name": f"p99 added over B0 at {rate:,.0f} events/s ≤ {limit:.0f} ms",
                    "value": added,
                    "unit": "ms",
                    "target": limit,
                    "met": added <= limit,
                }
            )
    low = results.get("low_rate")
    if low:
        targets.append(
            {
                "name": f"CPU for a batch of one event (at {low['rate']:.0f} events/s, "
                f"{low['events_per_batch']:.2f} events per batch) ≤ "
                f"{BATCH_OF_ONE_CPU_TARGET_MS} ms",
                "value": low["cpu_ms_per_batch"],
                "unit": "ms",
                "target": BATCH_OF_ONE_CPU_TARGET_MS,
                "met": low["cpu_ms_per_batch"] <= BATCH_OF_ONE_CPU_TARGET_MS,
            }
        )
        targets.append(
            {
                "name": f"bridge CPU at {low['rate']:.0f} events/s ≤ {LOW_RATE_CPU_TARGET:.0%} of a core",
                "value": low["cpu_share"],
                "unit": "share",
                "target": LOW_RATE_CPU_TARGET,
                "met": low["cpu_share"] <= LOW_RATE_CPU_TARGET,
            }
        )
    drain_rss = variants.get("bridge_sqlite", {}).get("steady_rss_mib")
    if drain_rss is not None:
        targets.append(
            {
                "name": "steady RSS in a full-speed drain ≤ 150 MiB",
                "value": drain_rss,
                "unit": "MiB",
                "target": STEADY_RSS_TARGET_MIB,
                "met": drain_rss <= STEADY_RSS_TARGET_MIB,
            }
        )
    return {
        "variants": variants,
        "ratios": ratios,
        "latency": latency,
        "memory": memory,
        "targets": targets,
        "phases": _phases(results, variants),
    }


def _variant(runs: list[dict[str, Any]]) -> dict[str, Any]:
    rates = [r["events_per_s"] for r in runs]
    return {
        "runs": len(runs),
        "events_per_s": round(statistics.median(rates), 1),
        "events_per_s_min": round(min(rates), 1),
        "events_per_s_max": round(max(rates), 1),
        "cpu_us_per_event": round(statistics.median(r["cpu_us_per_event"] for r in runs), 1),
        "peak_rss_mib": round(max(r["peak_rss_mib"] for r in runs), 1),
        "steady_rss_mib": round(statistics.median(r["steady_rss_mib"] for r in runs), 1),
        "outputs": sorted({r["outputs"] for r in runs}),
    }


#: (bridge variant, share of B0's events/s its target asks for)
PHASE_BUDGETS = (("bridge_sqlite", 0.30), ("bridge_postgres", 0.20))


def _phases(results: dict[str, Any], variants: dict[str, Any]) -> dict[str, Any]:
    """Where the bridge's time goes in the drains (medians over runs, µs per event), the time
    per event the throughput targets leave, and how busy the handler was at half the max rate."""
    by_variant: dict[str, Any] = {}
    for name in variants:
        runs = [r for r in results["runs"] if r["variant"] == name and r.get("phases")]
        if not runs:
            continue
        figures = [r["phases"] for r in runs]
        by_variant[name] = {
            "runs": len(runs),
            "wall_us": {p: _median(f["wall_us"][p] for f in figures) for p in figures[0]["wall_us"]},
            "cpu_us": {p: _median(f["cpu_us"][p] for f in figures) for p in figures[0]["cpu_us"]},
            "handler_wall_us": _median(f["handler_wall_us"] for f in figures),
            "handler_cpu_us": _median(f["handler_cpu_us"] for f in figures),
            # the consume loop, FastStream, the relay, the sampler, the checkpoint thread
            "outside_cpu_us": _median(r["cpu_us_per_event"] - r["phases"]["handler_cpu_us"] for r in runs),
            "events_per_batch": _median(f["events_per_batch"] or 0 for f in figures),
        }
    b0 = variants.get("b0", {}).get("events_per_s")
    budgets = {
        name: {"share_of_b0": share, "events_per_s": round(b0 * share), "us_per_event": round(1e6 / (b0 * share), 1)}
        for name, share in PHASE_BUDGETS
        if b0 and name in by_variant
    }
    at_half = None
    half = float(results["half_max_rate"])
    for run in results["latency"]:
        if run["variant"] == "bridge_sqlite" and run["rate"] == half and run.get("phases"):
            phases = run["phases"]
            at_half = {
                "rate": half,
                "events_per_batch": phases["events_per_batch"],
                "handler_wall_us": phases["handler_wall_us"],
                "handler_cpu_us": phases["handler_cpu_us"],
                "busy_share": round(half * phases["handler_wall_us"] / 1e6, 3),
                "cores": run.get("cores"),
            }
    return {"by_variant": by_variant, "budgets": budgets, "at_half_max_rate": at_half}


def _median(values: Any) -> float:
    return round(statistics.median(list(values)), 1)


def _latency(results: dict[str, Any]) -> dict[str, Any]:
    by_rate: dict[float, dict[str, Any]] = defaultdict(dict)
    for run in results["latency"]:
        by_rate[run["rate"]][run["variant"]] = run
    added = {
        str(rate): round(runs["bridge_sqlite"]["p99_ms"] - runs["b0"]["p99_ms"], 2)
        for rate, runs in sorted(by_rate.items())
        if "b0" in runs and "bridge_sqlite" in runs
    }
    half = float(results["half_max_rate"])
    return {
        "half_max_rate": half,
        "p99_added_ms": added.get(str(half)),
        "p99_added_ms_by_rate": added,
        "by_rate": {
            str(rate): {
                name: {k: run[k] for k in ("p50_ms", "p90_ms", "p99_ms", "max_ms", "outputs_measured")}
                for name, run in runs.items()
            }
            for rate, runs in sorted(by_rate.items())
        },
    }


def _memory(results: dict[str, Any], variants: dict[str, Any]) -> dict[str, Any]:
    steady = [run["steady_rss_mib"] for run in results["latency"] if run["variant"] == "bridge_sqlite"]
    bridge = variants.get("bridge_sqlite", {})
    return {
        "bridge_steady_rss_mib": round(statistics.median(steady), 1) if steady else bridge.get("steady_rss_mib", 0.0),
        "bridge_peak_rss_mib": max(
            [bridge.get("peak_rss_mib", 0.0)]
            + [v["peak_rss_mib"] for k, v in variants.items() if k.startswith("bridge")]
        ),
        "b0_steady_rss_mib": variants.get("b0", {}).get("steady_rss_mib", 0.0),
        "steady_measured": "median RSS over the second half of the latency run at half the max rate",
    }
