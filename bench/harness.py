"""The whole benchmark in one run against one broker: setup, calibration, throughput, latency."""

from __future__ import annotations

import contextlib
import platform
import shutil
import statistics
import tempfile
import time
from collections.abc import AsyncIterator, Callable
from dataclasses import replace
from pathlib import Path
from typing import Any

from bench.config import BenchConfig
from bench.kafka_io import read_all
from bench.latency import latency_run
from bench.low_rate import idle_run, low_rate_run
from bench.paired import paired_rules_run
from bench.rules import MAPPINGS
from bench.stores import Stores
from bench.throughput import ThroughputRun, throughput_run
from bench.workload import build_stream, calibrate, produce_inputs

Say = Callable[[str], None]


async def run_benchmark(config: BenchConfig, say: Say = print) -> dict[str, Any]:
    """Run every variant and return the results document (see ``bench.report``)."""
    began = time.monotonic()
    work_dir = Path(tempfile.mkdtemp(prefix="bridge-bench-"))
    try:
        async with _broker(config.bootstrap, say) as bootstrap, _postgres(config, say) as postgres_url:
            stores = Stores(work_dir, postgres_url)
            try:
                results = await _measure(replace(config, bootstrap=bootstrap), stores, work_dir, say)
            finally:
                await stores.drop_databases()
    finally:
        shutil.rmtree(work_dir, ignore_errors=True)
    results["meta"]["wall_seconds"] = round(time.monotonic() - began, 1)
    return results


async def _measure(config: BenchConfig, stores: Stores, work_dir: Path, say: Say) -> dict[str, Any]:
    bootstrap = config.bootstrap or ""
    stream = build_stream(config.seed, config.size, config.events)
    say(f"workload: {len(stream)} messages ({config.size} population + {config.events} changes)")
    plain = await produce_inputs(bootstrap, stream)
    calibration_spec = config.variants()[1]
    say("calibration: the bridge on the workload, to count its outputs per input")
    calibration_run, calibration_topics = await throughput_run(
        calibration_spec, -1, bootstrap, plain, stores, work_dir, config.run_timeout_s
    )
    outputs = await read_all(bootstrap, list(calibration_topics.outputs.values()), expected=calibration_run.outputs)
    calibration = calibrate(stream, plain, outputs, calibration_topics.outputs)
    say(f"  {calibration.outputs} outputs ({calibration.by_topic}), {calibration.unattributed} unattributed")
    with_fanout = await produce_inputs(bootstrap, stream, calibration.fanouts)
    say("warm-up: one untimed B0 run (the broker's JVM is still compiling its hot paths)")
    await throughput_run(config.variants()[0], -1, bootstrap, with_fanout, stores, work_dir, config.run_timeout_s)
    runs: list[ThroughputRun] = []
    for block, spec in config.schedule():
        inputs = plain if spec.is_bridge else with_fanout
        run, _ = await throughput_run(spec, block, bootstrap, inputs, stores, work_dir, config.run_timeout_s)
        say(
            f"  block {block} {spec.name:<28} {run.events_per_s:9.0f} ev/s "
            f"{run.cpu_us_per_event:7.0f} CPU-µs/ev  rss {run.steady_rss_mib:5.0f}/{run.peak_rss_mib:5.0f} MiB "
            f"outputs {run.outputs}"
        )
        runs.append(run)
    bridge_max = statistics.median(r.events_per_s for r in runs if r.variant == "bridge_sqlite")
    specs = {spec.name: spec for spec in config.variants()}
    paired = None
    extra_spec = specs.get("bridge_sqlite_extra_rules")
    if extra_spec is not None and extra_spec.extra_rules:
        say(f"mapping rules: shipped vs +{extra_spec.extra_rules} irrelevant, in one process, batch by batch")
        extra_mappings = stores.mappings_for(extra_spec)
        assert extra_mappings is not None
        paired = await paired_rules_run(stream, stores.templates, extra_spec.links, MAPPINGS, extra_mappings)
        say(
            f"  {paired.base_cpu_us_per_event:.0f} vs {paired.variant_cpu_us_per_event:.0f} "
            f"CPU-µs/ev over {paired.batches} batch pairs: ratio {paired.ratio:.3f}"
        )
    latency = []
    outputs_per_input = calibration.outputs / max(1, len(stream))
    for rate in (*config.latency_fixed_rates, round(bridge_max / 2)):
        # Long enough for a p99 of many outputs: at 100 events/s and ~0.2 outputs per input,
        # 20 s measure ~150 outputs, whose p99 is their second worst, whatever disturbed it.
        seconds = min(
            config.latency_max_seconds,
            max(config.latency_seconds, config.latency_min_outputs / (rate * outputs_per_input)),
        )
        for name in ("b0", "bridge_sqlite"):
            result = await latency_run(
                specs[name], bootstrap, stream, calibration.fanouts, float(rate), seconds, stores, work_dir
            )
            say(
                f"  latency {name:<14} at {rate:6.0f}/s: p50 {result.p50_ms:7.1f} ms  "
                f"p99 {result.p99_ms:7.1f} ms  ({result.outputs_measured} outputs)"
            )
            latency.append(result)
    bridge_spec = specs["bridge_sqlite"]
    say(
        f"a normal day: the bridge at {config.low_rate:.0f} events/s for "
        f"{config.low_rate_seconds:.0f} s, then idle for {config.idle_seconds:.0f} s"
    )
    low = await low_rate_run(
        bridge_spec, bootstrap, stream, calibration.fanouts, config.low_rate, config.low_rate_seconds, stores, work_dir
    )
    idle = await idle_run(bridge_spec, bootstrap, config.idle_seconds, stores, work_dir)
    say(
        f"  {low.cpu_share:.1%} of a core at {config.low_rate:.0f}/s; {low.cpu_ms_per_batch:.2f} ms "
        f"of CPU per batch of {low.events_per_batch:.1f} events; idle {idle['cpu_share']:.2%}"
    )
    return {
        "meta": _meta(config, len(stream), calibration_run.to_dict(), calibration),
        "runs": [run.to_dict() for run in runs],
        "latency": [run.to_dict() for run in latency],
        "paired_rules": paired.to_dict() if paired else None,
        "half_max_rate": round(bridge_max / 2),
        "low_rate": low.to_dict(),
        "idle": idle,
    }


def _meta(config: BenchConfig, messages: int, calibration_run: dict[str, Any], calibration: Any) -> dict[str, Any]:
    from importlib.metadata import version

    try:
        from aiokafka.record import _crecords  # noqa: F401 - the C extension (issue aiokafka#514)

        c_extension = True
    except ImportError:
        c_extension = False
    return {
        "finished": time.strftime("%Y-%m-%d %H:%M:%S %Z"),
        "machine": {"cpus": _cpus(), "platform": platform.platform(), "python": platform.python_version()},
        "versions": {name: version(name) for name in ("aiokafka", "faststream", "sqlalchemy")},
        "aiokafka_c_extension": c_extension,
        "workload": {
            "seed": config.seed,
            "population": config.size,
            "changes": config.events,
            "messages": messages,
            "outputs": calibration.outputs,
            "outputs_by_topic": calibration.by_topic,
            "outputs_per_event": round(calibration.outputs / messages, 3),
            "unattributed_outputs": calibration.unattributed,
        },
        "store_links": list(config.links),
        "extra_rules": config.extra_rules,
        "blocks": config.blocks,
        "latency_seconds": config.latency_seconds,
        "calibration_run": calibration_run,
    }


def _cpus() -> int:
    import os

    return len(os.sched_getaffinity(0))


@contextlib.asynccontextmanager
async def _broker(bootstrap: str | None, say: Say) -> AsyncIterator[str]:
    if bootstrap:
        yield bootstrap
        return
    from bridgedev.kafka.local_broker import LocalKafka

    async with LocalKafka() as kafka:
        say(f"local Kafka at {kafka.bootstrap_servers}")
        yield kafka.bootstrap_servers


@contextlib.asynccontextmanager
async def _postgres(config: BenchConfig, say: Say) -> AsyncIterator[str | None]:
    if not config.postgres or config.postgres_url:
        yield config.postgres_url
        return
    from tests.fixtures.postgres import LocalPostgres  # the test suite's throwaway cluster

    with LocalPostgres() as server:
        say(f"local PostgreSQL on port {server.port}")
        yield server.url
