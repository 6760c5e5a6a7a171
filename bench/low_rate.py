"""A normal day: what the bridge costs at tens of events per second, and with nothing to do.

A real deployment between CSM and FSM sees tens of events a second most of the day, so batches
hold one event or two, and the fixed cost of a batch (its statements, its transaction, its
commit, the Kafka round trips) is what the bridge spends. Two figures, from one paced run of the
workload at ``rate`` (``bench.latency``, open loop) into the bridge on SQLite:

* **CPU at that rate**: the bridge process's CPU (user + system, every thread) over the run,
  as a share of one core;
* **CPU per batch**: the same CPU divided by the batches the bridge handled in the run (its own
  ``bridge_batch_size_count``), with the events per batch; and the handler's part of it (its
  phase metrics: decode, the store's reads and writes, flows, publish).

And the **idle** cost: the bridge started, consuming, with no event at all for ``seconds``.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from bench.latency import LatencyRun, latency_run, launch, until_consuming
from bench.stores import Stores
from bench.variants.launch import VariantSpec
from bridgedev.simulate import SimMessage


@dataclass
class LowRateRun:
    rate: float
    seconds: float
    cpu_share: float  # of one core, the whole process
    batches: int
    events_per_batch: float
    cpu_ms_per_batch: float  # the whole process's CPU / batches
    handler_cpu_ms_per_batch: float  # the phases' CPU (event loop + store thread) / batches
    p50_ms: float
    p99_ms: float
    steady_rss_mib: float

    def to_dict(self) -> dict[str, Any]:
        return {k: round(v, 4) if isinstance(v, float) else v for k, v in asdict(self).items()}


async def low_rate_run(
    spec: VariantSpec,
    bootstrap: str,
    stream: list[SimMessage],
    fanouts: list[int],
    rate: float,
    seconds: float,
    stores: Stores,
    log_dir: Path,
) -> LowRateRun:
    run: LatencyRun = await latency_run(spec, bootstrap, stream, fanouts, rate, seconds, stores, log_dir)
    phases = run.phases or {}
    batches = int(phases.get("batches") or 0)
    cpu_share = (run.cores or {}).get("variant", 0.0)
    process_cpu_s = cpu_share * run.seconds
    handler_cpu_s = (phases.get("handler_cpu_us") or 0.0) * (phases.get("events") or 0) / 1e6
    return LowRateRun(
        rate=rate,
        seconds=run.seconds,
        cpu_share=cpu_share,
        batches=batches,
        events_per_batch=float(phases.get("events_per_batch") or 0.0),
        cpu_ms_per_batch=process_cpu_s / batches * 1e3 if batches else 0.0,
        handler_cpu_ms_per_batch=handler_cpu_s / batches * 1e3 if batches else 0.0,
        p50_ms=run.p50_ms,
        p99_ms=run.p99_ms,
        steady_rss_mib=run.steady_rss_mib,
    )


async def idle_run(
    spec: VariantSpec, bootstrap: str, seconds: float, stores: Stores, log_dir: Path
) -> dict[str, float]:
    """The share of a core the variant uses with nothing to consume, once it consumes."""
    variant = await launch(spec, "idle", bootstrap, stores, log_dir)
    try:
        await until_consuming(variant.process, variant.probe, bootstrap, variant.group)
        await asyncio.sleep(2.0)  # start-up work (the relay's first drain, the first samples)
        first = variant.probe.sample()
        began = time.monotonic()
        await asyncio.sleep(seconds)
        last = variant.probe.sample()
        elapsed = time.monotonic() - began
    finally:
        variant.stop(stores)
    if first is None or last is None:
        return {"seconds": 0.0, "cpu_share": 0.0}
    return {"seconds": round(elapsed, 1), "cpu_share": round((last.cpu_s - first.cpu_s) / elapsed, 4)}
