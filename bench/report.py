"""Write the results: ``results.json`` (everything), ``report.md`` (for people), a PNG chart."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

CHART = "throughput.png"


def write_all(results: dict[str, Any], out_dir: Path) -> list[Path]:
    out_dir.mkdir(parents=True, exist_ok=True)
    paths = [out_dir / "results.json", out_dir / "report.md", out_dir / CHART]
    paths[0].write_text(json.dumps(results, indent=2, ensure_ascii=False) + "\n")
    paths[1].write_text(markdown(results))
    chart(results, paths[2])
    return paths


def markdown(results: dict[str, Any]) -> str:
    meta, summary = results["meta"], results["summary"]
    work = meta["workload"]
    lines = [
        "# Benchmark: the bridge against the raw-Kafka limit",
        "",
        f"Run finished {meta['finished']} on {meta['machine']['cpus']} CPUs ({meta['machine']['platform']}), "
        f"Python {meta['machine']['python']}, aiokafka {meta['versions']['aiokafka']} "
        f"(C extension: {'yes' if meta['aiokafka_c_extension'] else 'NO'}), "
        f"FastStream {meta['versions']['faststream']}; {meta['blocks']} blocks (ABBA order), "
        f"{meta.get('wall_seconds', '?')} s in all. Broker, harness and variant share the machine.",
        "",
        f"Workload: simulator seed {work['seed']}, `{work['population']}` population + "
        f"{work['changes']} changes (standard mix: duplicates, malformed, echoes) = "
        f"{work['messages']} input messages; the bridge published {work['outputs']} messages "
        f"({work['outputs_per_event']} per input; {work['outputs_by_topic']}). B0 and B1 publish the "
        "same number of copies of each input.",
        "",
        "## Targets",
        "",
        "| target | measured | met |",
        "|---|---|---|",
    ]
    for target in summary["targets"]:
        value, unit = target["value"], target["unit"]
        shown = f"{value:.1%}" if unit in ("ratio", "share") else f"{value:.1f} {unit}"
        lines.append(f"| {target['name']} | {shown} | {'yes' if target['met'] else '**no**'} |")
    lines += [
        "",
        "## Throughput (drain from earliest, fresh consumer group)",
        "",
        "| variant | events/s (median) | min–max | CPU-µs/event | steady RSS MiB | peak RSS MiB | outputs |",
        "|---|---|---|---|---|---|---|",
    ]
    for name, v in summary["variants"].items():
        lines.append(
            f"| {name} | {v['events_per_s']:.0f} | {v['events_per_s_min']:.0f}–{v['events_per_s_max']:.0f} "
            f"| {v['cpu_us_per_event']:.0f} | {v['steady_rss_mib']:.0f} | {v['peak_rss_mib']:.0f} "
            f"| {', '.join(map(str, v['outputs']))} |"
        )
    lines += ["", "## Ratios, pair by pair (same block)", "", "| ratio | pairs | median |", "|---|---|---|"]
    for r in summary["ratios"].values():
        lines.append(f"| {r['label']} | {', '.join(f'{p:.2f}' for p in r['pairs'])} | {r['median']:.2f} |")
    paired = results.get("paired_rules")
    if paired:
        lines += [
            "",
            "## Mapping rules, paired batch by batch in one process",
            "",
            f"The shipped mappings and the same plus {meta['extra_rules']} irrelevant table maps, each on "
            "its own copy of the small store, took turns on the same batches (`bench/paired.py`); "
            "both emitted the same rows in every batch.",
            "",
            "| batch pairs | events | CPU-µs/event shipped | CPU-µs/event +rules "
            "| ratio (shipped CPU / +rules CPU) | per-batch ratio p25 / p50 / p75 |",
            "|---|---|---|---|---|---|",
            f"| {paired['batches']} | {paired['events']} | {paired['base_cpu_us_per_event']:.0f} "
            f"| {paired['variant_cpu_us_per_event']:.0f} | {paired['ratio']:.3f} "
            f"| {paired['batch_ratio_p25']:.2f} / {paired['batch_ratio_p50']:.2f} / "
            f"{paired['batch_ratio_p75']:.2f} |",
        ]
    latency = summary["latency"]
    lines += [
        "",
        f"## End-to-end latency (open loop; half max rate = {latency['half_max_rate']:.0f} events/s)",
        "",
        "| rate /s | variant | p50 ms | p90 ms | p99 ms | max ms | outputs measured |",
        "|---|---|---|---|---|---|---|",
    ]
    for rate, runs in latency["by_rate"].items():
        for name, q in runs.items():
            lines.append(
                f"| {float(rate):.0f} | {name} | {q['p50_ms']:.1f} | {q['p90_ms']:.1f} | "
                f"{q['p99_ms']:.1f} | {q['max_ms']:.1f} | {q['outputs_measured']} |"
            )
    added = latency.get("p99_added_ms_by_rate") or {}
    if added:
        lines += [
            "",
            "p99 added over B0 at the same rate: "
            + ", ".join(f"{float(rate):.0f}/s: {ms:+.1f} ms" for rate, ms in added.items())
            + ".",
        ]
    lines += _low_rate_lines(results)
    lines += _phase_lines(summary.get("phases"))
    memory = summary["memory"]
    lines += [
        "",
        "## Memory",
        "",
        f"Bridge steady RSS {memory['bridge_steady_rss_mib']} MiB ({memory['steady_measured']}); "
        f"peak {memory['bridge_peak_rss_mib']} MiB over all bridge runs; B0 steady "
        f"{memory['b0_steady_rss_mib']} MiB. The 30-minute soak is a separate run: [soak.md](soak.md) "
        "(`python -m bench.soak`).",
        "",
        f"![throughput]({CHART})",
        "",
        "How each figure is measured: `bench/README.md`.",
        "",
    ]
    return "\n".join(lines)


_STORE_PHASES = ("prefetch", "flush", "commit")


def _low_rate_lines(results: dict[str, Any]) -> list[str]:
    low, idle = results.get("low_rate"), results.get("idle")
    if not low:
        return []
    lines = [
        "",
        f"## A normal day: {low['rate']:.0f} events/s, and idle (`bench/low_rate.py`)",
        "",
        "| figure | value |",
        "|---|---|",
        f"| bridge CPU at {low['rate']:.0f} events/s (process, every thread) | {low['cpu_share']:.1%} of a core |",
        f"| batches handled / events per batch | {low['batches']} / {low['events_per_batch']:.2f} |",
        f"| CPU per batch, whole process | {low['cpu_ms_per_batch']:.2f} ms |",
        f"| CPU per batch, the handler's phases (decode, store, flows, publish) | "
        f"{low['handler_cpu_ms_per_batch']:.2f} ms |",
        f"| latency p50 / p99 | {low['p50_ms']:.1f} / {low['p99_ms']:.1f} ms |",
        f"| steady RSS | {low['steady_rss_mib']:.0f} MiB |",
    ]
    if idle:
        lines.append(
            f"| bridge CPU idle (consuming, no events, {idle['seconds']:.0f} s) | {idle['cpu_share']:.2%} of a core |"
        )
    return lines


def _phase_lines(phases: dict[str, Any] | None) -> list[str]:
    """What limits the figures: the bridge's own phase metrics, against the targets' budgets."""
    if not phases or not phases["by_variant"]:
        return []
    by_variant = phases["by_variant"]
    names = list(by_variant)
    first = by_variant[names[0]]
    lines = [
        "",
        "## Where the bridge's time goes (its own phase metrics, over the drains)",
        "",
        "µs per event, wall / CPU of the event loop's thread (medians over runs). Wall minus CPU "
        "is waiting: for the disk, the broker, or a core taken by another process.",
        "",
        "| phase | " + " | ".join(names) + " |",
        "|---|" + "---|" * len(names),
    ]
    for phase in first["wall_us"]:
        lines.append(
            f"| {phase} | "
            + " | ".join(f"{v['wall_us'][phase]:.0f} / {v['cpu_us'][phase]:.0f}" for v in by_variant.values())
            + " |"
        )
    lines.append(
        "| **handler, all phases** | "
        + " | ".join(f"{v['handler_wall_us']:.0f} / {v['handler_cpu_us']:.0f}" for v in by_variant.values())
        + " |"
    )
    lines.append(
        "| outside the handler (CPU: consume loop, FastStream, relay, checkpoints) | "
        + " | ".join(f"– / {v['outside_cpu_us']:.0f}" for v in by_variant.values())
        + " |"
    )
    lines.append(
        "| events per batch | " + " | ".join(f"{v['events_per_batch']:.0f}" for v in by_variant.values()) + " |"
    )
    lines.append("")
    for name, budget in phases["budgets"].items():
        v = by_variant[name]
        store = sum(v["wall_us"][p] for p in _STORE_PHASES)
        lines.append(
            f"- {name} at {budget['share_of_b0']:.0%} of B0 would be {budget['events_per_s']} events/s: "
            f"**{budget['us_per_event']:.0f} µs per event** for everything. Its store phases alone "
            f"({', '.join(_STORE_PHASES)}) took {store:.0f} µs, decoding {v['wall_us']['decode']:.0f} µs, "
            f"and the whole handler {v['handler_wall_us']:.0f} µs."
        )
    half = phases.get("at_half_max_rate")
    if half:
        lines.append(
            f"- At half the max rate ({half['rate']:.0f} events/s) the handler took "
            f"{half['handler_wall_us']:.0f} µs per event of wall time ({half['handler_cpu_us']:.0f} CPU) "
            f"in batches of {half['events_per_batch']:.0f}: it was busy **{half['busy_share']:.0%}** of the time. "
            "A record waits for the batch in progress, then for its own, so latency is a few handler "
            "cycles."
        )
        cores = half.get("cores")
        if cores:
            lines.append(
                f"- While the inputs were sent at that rate, {cores['machine']:.2f} cores of the machine were busy: "
                f"the bridge {cores['variant']:.2f}, the harness (paced producer and sink) "
                f"{cores['harness']:.2f}, the rest (the broker, mostly) {cores['others']:.2f}."
            )
    return lines


def chart(results: dict[str, Any], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    variants = results["summary"]["variants"]
    names = list(variants)
    fig, (left, right) = plt.subplots(1, 2, figsize=(13, 5), gridspec_kw={"width_ratios": [3, 2]})
    rates = [variants[n]["events_per_s"] for n in names]
    errors = [
        [r - variants[n]["events_per_s_min"] for n, r in zip(names, rates, strict=True)],
        [variants[n]["events_per_s_max"] - r for n, r in zip(names, rates, strict=True)],
    ]
    colors = ["#888888" if n in ("b0", "b1") else "#2a7ab9" for n in names]
    bars = left.bar(range(len(names)), rates, yerr=errors, color=colors, capsize=4)
    for bar, n in zip(bars, names, strict=True):
        left.annotate(
            f"{variants[n]['cpu_us_per_event']:.0f} µs/ev",
            (bar.get_x() + bar.get_width() / 2, bar.get_height()),
            ha="center",
            va="bottom",
            fontsize=8,
            xytext=(0, 3),
            textcoords="offset points",
        )
    left.set_xticks(range(len(names)), [n.replace("bridge_", "bridge\n") for n in names], fontsize=8)
    left.set_ylabel("events/s (median, min–max)")
    left.set_title("Throughput (label: CPU-µs per event)")
    latency = results["summary"]["latency"]["by_rate"]
    labels, p50, p99 = [], [], []
    for rate, runs in latency.items():
        for name, q in runs.items():
            labels.append(f"{name}\n@{float(rate):.0f}/s")
            p50.append(q["p50_ms"])
            p99.append(q["p99_ms"])
    xs = range(len(labels))
    right.bar([x - 0.2 for x in xs], p50, width=0.4, label="p50", color="#7fb8e0")
    right.bar([x + 0.2 for x in xs], p99, width=0.4, label="p99", color="#1f4e79")
    right.set_xticks(list(xs), labels, fontsize=8)
    right.set_ylabel("ms from scheduled send to output received")
    right.set_title("End-to-end latency")
    right.legend()
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
