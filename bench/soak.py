"""The soak: the bridge under a steady load for a long time. Does its memory grow?

``python -m bench.soak [--minutes 30] [--rate 200] [--bootstrap HOST:PORT]``

A paced producer plays the simulator's endless stream (population, then changes of the
standard mix) at a fixed rate into fresh topics; the bridge (SQLite, a store seeded with 10k
links) consumes it. Every few seconds the harness samples the bridge's RSS and CPU time, its
consumer group's committed offsets (lag = sent − committed; a send in flight counts as lag) and
the size of the store's write-ahead log file. The verdict compares
the RSS after warm-up (minutes 5–10, or the second sixth of a shorter run) with the RSS at the
end (the last sixth), and fits a least-squares slope over the second half of the run.
Output: ``bench/results/soak.json``, ``soak.md`` and ``soak.png``.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import shutil
import statistics
import tempfile
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Iterator

from bench.config import RESULTS
from bench.kafka_io import GroupWatch, create_topics, loader_producer, unique
from bench.latency import until_consuming
from bench.probe import ProcessProbe
from bench.stores import Stores
from bench.variants.launch import RunTopics, VariantSpec, output_topics, start, stop
from bench.workload import SOURCES
from bridge.store.checkpoint import database_path
from bridgedev.simulate import SimMessage
from bridgedev.simulate.workload import simulation_stream

SPEC = VariantSpec("bridge_sqlite", "bridge", "sqlite", 10_000)
SAMPLE_S = 5.0
#: RSS may end this much above its post-warm-up level and still count as "no growth"
GROWTH_TOLERANCE = 0.10


@dataclass
class SoakPoint:
    seconds: float  # since the load started
    rss_mib: float
    cpu_s: float
    sent: int
    committed: int
    wal_mib: float = 0.0  # the store's write-ahead log file (its size is the largest the log reached)


@dataclass
class SoakResult:
    minutes: float
    rate: float
    sent: int
    drained: bool  # every input committed after the load stopped
    points: list[SoakPoint] = field(default_factory=list)

    def summary(self) -> dict[str, Any]:
        run_s = self.minutes * 60
        warm_from, warm_to = (300.0, 600.0) if run_s >= 1800 else (run_s / 6, run_s / 3)
        warm = [p.rss_mib for p in self.points if warm_from <= p.seconds <= warm_to]
        end = [p.rss_mib for p in self.points if p.seconds >= run_s * 5 / 6]
        half = [p for p in self.points if p.seconds >= run_s / 2]
        slope = (
            statistics.linear_regression([p.seconds for p in half], [p.rss_mib for p in half]).slope * 3600
            if len(half) >= 2
            else 0.0
        )
        warm_mib = statistics.median(warm) if warm else 0.0
        end_mib = statistics.median(end) if end else 0.0
        lag = [p.sent - p.committed for p in self.points]
        cpu = 0.0  # the bridge's CPU share over the run
        if len(self.points) >= 2:
            first, last = self.points[0], self.points[-1]
            cpu = (last.cpu_s - first.cpu_s) / max(1.0, last.seconds - first.seconds)
        return {
            "after_warmup_rss_mib": round(warm_mib, 1),
            "end_rss_mib": round(end_mib, 1),
            "peak_rss_mib": round(max((p.rss_mib for p in self.points), default=0.0), 1),
            "peak_wal_mib": round(max((p.wal_mib for p in self.points), default=0.0), 1),
            "growth_mib": round(end_mib - warm_mib, 1),
            "slope_mib_per_hour_second_half": round(slope, 1),
            "max_lag": max(lag, default=0),
            "end_lag": lag[-1] if lag else 0,
            "cpu_share": round(cpu, 3),
            "drained": self.drained,
            "no_growth": bool(warm) and end_mib <= warm_mib * (1 + GROWTH_TOLERANCE),
            "steady_rss_under_150mb": end_mib * 1024 * 1024 <= 150e6,
        }


async def soak(bootstrap: str, minutes: float, rate: float, work_dir: Path, say: Any = print) -> SoakResult:
    prefix = unique("soak")
    topics = RunTopics({s: f"{prefix}.{s}.events" for s in SOURCES}, output_topics(SPEC, prefix))
    await create_topics(bootstrap, [*topics.inputs.values(), *topics.outputs.values()])
    stores = Stores(work_dir, None)
    store_url = await stores.store_for(SPEC, "soak")
    wal = Path(f"{database_path(store_url)}-wal")
    group = f"{prefix}.group"
    process = start(SPEC, bootstrap, group, topics, work_dir / "bridge.log", store_url=store_url)
    probe = ProcessProbe(process.pid)
    result = SoakResult(minutes, rate, 0, drained=False)
    try:
        await until_consuming(process, probe, bootstrap, group)
        sent = [0]
        producer = asyncio.create_task(_paced_forever(bootstrap, topics, rate, minutes * 60, sent))
        began = time.monotonic()
        async with GroupWatch(bootstrap, group) as watch:
            while not producer.done():
                await asyncio.sleep(SAMPLE_S)
                point = await _point(probe, watch, began, sent[0], wal)
                if point is None:
                    raise RuntimeError(f"the bridge exited with {process.poll()}")
                result.points.append(point)
                if len(result.points) % max(1, int(60 / SAMPLE_S)) == 0:
                    say(
                        f"  {point.seconds / 60:5.1f} min  rss {point.rss_mib:6.1f} MiB  "
                        f"sent {point.sent}  lag {point.sent - point.committed}"
                    )
            result.sent = await producer
            deadline = time.monotonic() + 120
            while time.monotonic() < deadline:
                if await watch.committed() >= result.sent:
                    result.drained = True
                    break
                await asyncio.sleep(1.0)
    finally:
        stop(process)
    return result


async def _point(probe: ProcessProbe, watch: GroupWatch, began: float, sent: int, wal: Path) -> SoakPoint | None:
    sample = probe.sample()
    if sample is None:
        return None
    wal_mib = wal.stat().st_size / 2**20 if wal.exists() else 0.0
    return SoakPoint(
        round(sample.at - began, 1),
        sample.rss_kib / 1024,
        sample.cpu_s,
        sent,
        await watch.committed(),
        round(wal_mib, 2),
    )


async def _paced_forever(bootstrap: str, topics: RunTopics, rate: float, seconds: float, sent_so_far: list[int]) -> int:
    """Send the endless stream at ``rate`` for ``seconds``; ``sent_so_far[0]`` counts sends."""
    producer = loader_producer(bootstrap)
    await producer.start()
    stream: Iterator[SimMessage] = simulation_stream(7, size="small", mix="standard")
    began = time.monotonic()
    pending: list[Any] = []
    sent = 0
    try:
        while (now := time.monotonic() - began) < seconds:
            while sent < int(now * rate):
                message = next(stream)
                pending.append(await producer.send(topics.inputs[message.source], message.value, key=message.key))
                sent += 1
            sent_so_far[0] = sent
            if len(pending) >= 500:
                await asyncio.gather(*pending)
                pending.clear()
            await asyncio.sleep(0.01)
        await asyncio.gather(*pending)
    finally:
        await producer.stop()
    return sent


def write(result: SoakResult, out_dir: Path) -> list[Path]:
    out_dir.mkdir(parents=True, exist_ok=True)
    summary = result.summary()
    data = {
        "finished": time.strftime("%Y-%m-%d %H:%M:%S %Z"),
        "minutes": result.minutes,
        "rate": result.rate,
        "sent": result.sent,
        "summary": summary,
        "points": [asdict(p) for p in result.points],
    }
    paths = [out_dir / "soak.json", out_dir / "soak.md", out_dir / "soak.png"]
    paths[0].write_text(json.dumps(data, indent=2) + "\n")
    lines = [
        "# Soak: the bridge under steady load",
        "",
        f"Run finished {data['finished']}: {result.minutes:g} minutes at {result.rate:g} events/s "
        f"({result.sent} events, simulator seed 7, standard mix), the bridge on SQLite; "
        f"every input committed after the load: {'yes' if result.drained else '**no**'}.",
        "",
        "| figure | value |",
        "|---|---|",
        *(f"| {name.replace('_', ' ')} | {value} |" for name, value in summary.items()),
        "",
        f"*No growth* means the RSS over the last sixth of the run is within "
        f"{GROWTH_TOLERANCE:.0%} of the RSS after warm-up (minutes 5–10). How it is measured: "
        "`bench/soak.py`.",
        "",
        "| minute | RSS MiB | lag | WAL MiB |",
        "|---|---|---|---|",
    ]
    every = max(1, int(60 / SAMPLE_S))
    lines += [
        f"| {p.seconds / 60:.0f} | {p.rss_mib:.1f} | {p.sent - p.committed} | {p.wal_mib:.1f} |"
        for p in result.points[every - 1 :: every]
    ]
    paths[1].write_text("\n".join(lines) + "\n\n![rss](soak.png)\n")
    _chart(result, paths[2])
    return paths


def _chart(result: SoakResult, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    figure, axis = plt.subplots(figsize=(8, 3.5))
    axis.plot([p.seconds / 60 for p in result.points], [p.rss_mib for p in result.points])
    axis.set_xlabel("minutes")
    axis.set_ylabel("bridge RSS (MiB)")
    axis.set_ylim(bottom=0)
    axis.set_title(f"Soak at {result.rate:g} events/s")
    figure.tight_layout()
    figure.savefig(path, dpi=100)
    plt.close(figure)


async def _main(args: argparse.Namespace) -> SoakResult:
    work_dir = Path(tempfile.mkdtemp(prefix="bridge-soak-"))
    try:
        if args.bootstrap:
            return await soak(args.bootstrap, args.minutes, args.rate, work_dir)
        from bridgedev.kafka.local_broker import LocalKafka

        async with LocalKafka() as kafka:
            return await soak(kafka.bootstrap_servers, args.minutes, args.rate, work_dir)
    finally:
        shutil.rmtree(work_dir, ignore_errors=True)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.soak", description=__doc__.split("\n")[0])
    parser.add_argument("--minutes", type=float, default=30.0)
    parser.add_argument("--rate", type=float, default=200.0, help="input events per second")
    parser.add_argument("--bootstrap", help="an existing broker (default: start a LocalKafka)")
    parser.add_argument("--out", type=Path, default=RESULTS)
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.ERROR)
    result = asyncio.run(_main(args))
    for path in write(result, args.out):
        print(f"wrote {path}")
    print(json.dumps(result.summary(), indent=2))


if __name__ == "__main__":
    main()
