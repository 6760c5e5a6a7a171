"""One throughput run: a variant drains pre-produced input from the start, with a fresh group.

The window is from the variant's first committed batch to the moment its committed offsets
reach the end of the input (every variant commits only after its outputs are acknowledged, so
lag 0 means every output is out). Events/s and CPU per event are over that window; the first
batch (start-up) is left out, the same way for every variant; a run that drained everything in
its first batch (a tiny smoke run) is timed from the launch instead.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from bench.kafka_io import GroupWatch, create_topics, end_offsets, unique
from bench.phases import PhaseScrape, per_event, scrape
from bench.probe import ProcessProbe
from bench.stores import Stores
from bench.variants.launch import RunTopics, VariantSpec, free_port, output_topics, start, stop
from bench.workload import InputSet

POLL_S = 0.02  # B0 drains the full workload in well under a second


class VariantFailed(RuntimeError):
    pass


@dataclass
class ThroughputRun:
    variant: str
    block: int
    events: int
    seconds: float
    events_per_s: float
    cpu_us_per_event: float
    peak_rss_mib: float
    steady_rss_mib: float
    outputs: int
    phases: dict[str, Any] | None = None  # the bridge's phases over the window (bench.phases)

    def to_dict(self) -> dict[str, Any]:
        return {k: round(v, 3) if isinstance(v, float) else v for k, v in asdict(self).items()}


async def throughput_run(
    spec: VariantSpec, block: int, bootstrap: str, inputs: InputSet, stores: Stores, log_dir: Path, timeout_s: float
) -> tuple[ThroughputRun, RunTopics]:
    prefix = unique(spec.name)
    topics = RunTopics(inputs.topics, output_topics(spec, prefix))
    await create_topics(bootstrap, topics.outputs.values())
    run_name = prefix.replace(".", "-")
    store_url = await stores.store_for(spec, run_name) if spec.is_bridge else ""
    group = f"{prefix}.group"
    launched = time.monotonic()
    port = free_port() if spec.is_bridge else None
    process = start(
        spec,
        bootstrap,
        group,
        topics,
        log_dir / f"{run_name}.log",
        store_url=store_url,
        mappings_dir=stores.mappings_for(spec),
        http_port=port,
    )
    probe = ProcessProbe(process.pid)
    scrapes: list[PhaseScrape | None] = []
    try:
        first, end = await _watch(
            process, probe, bootstrap, group, inputs.total, timeout_s, log_dir / f"{run_name}.log", port, scrapes
        )
        if port is not None:
            await asyncio.sleep(0.3)  # the last batch's phases are counted just after its commit
            scrapes.append(await scrape(port))
    finally:
        stop(process)
        if spec.is_bridge and spec.backend == "sqlite":
            stores.discard(run_name)
    outputs = sum((await end_offsets(bootstrap, list(topics.outputs.values()))).values())
    (t0, n0), (t1, n1) = first, end
    if n1 <= n0:  # everything came in the first batch (tiny runs): count from the launch
        t0, n0 = launched, 0
    seconds = max(t1 - t0, 1e-6)
    run = ThroughputRun(
        spec.name,
        block,
        n1 - n0,
        seconds,
        (n1 - n0) / seconds,
        probe.cpu_between(t0, t1) / max(n1 - n0, 1) * 1e6,
        probe.peak_rss_mib,
        probe.steady_rss_mib(t0, t1),
        outputs,
        _phases(scrapes),
    )
    return run, topics


async def _watch(
    process: Any,
    probe: ProcessProbe,
    bootstrap: str,
    group: str,
    total: int,
    timeout_s: float,
    log_path: Path,
    port: int | None,
    scrapes: list[PhaseScrape | None],
) -> tuple[tuple[float, int], tuple[float, int]]:
    deadline = time.monotonic() + timeout_s
    first: tuple[float, int] | None = None
    async with GroupWatch(bootstrap, group) as watch:
        while True:
            probe.sample()
            done = await watch.committed()
            now = time.monotonic()
            if process.poll() is not None:
                raise VariantFailed(f"exited with {process.returncode}: {_tail(log_path)}")
            if first is None and done > 0:
                first = (now, done)
                if port is not None and done < total:  # the window's start, for the phases
                    scrapes.append(await scrape(port))
            if done >= total and first is not None:
                return first, (now, done)
            if now > deadline:
                raise VariantFailed(f"only {done}/{total} consumed in {timeout_s:.0f}s: {_tail(log_path)}")
            await asyncio.sleep(POLL_S)


def _phases(scrapes: list[PhaseScrape | None]) -> dict[str, Any] | None:
    """Phases over the window: from the first commit, or from the launch when the first batch
    drained everything (then no scrape was taken at the start)."""
    if len(scrapes) == 1:
        return per_event(PhaseScrape({}, {}, 0.0, 0.0), scrapes[0])
    return per_event(*scrapes) if len(scrapes) == 2 else None


def _tail(path: Path, lines: int = 15) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return ""
