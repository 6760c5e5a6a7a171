"""One latency run: a paced producer feeds a running variant at a fixed rate (open loop).

Input ``i`` is scheduled at ``start + i / rate`` and sent when due (a late sender does not move
the schedule, so coordinated omission is counted). Latency of an output = when a sink consumer
received it − when its input was scheduled. The passthroughs forward the scheduled time in a
header; the bridge's outputs are traced back to their input by ``caused_by.event_id`` (commands)
or by the original topic/partition/offset headers (dead letters).
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import json
import statistics
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, Iterator

from aiokafka import AIOKafkaConsumer

from bench.kafka_io import GroupWatch, create_topics, unique, variant_producer
from bench.phases import per_event, scrape
from bench.probe import ProcessProbe, machine_busy_seconds
from bench.stores import Stores
from bench.throughput import VariantFailed
from bench.variants import FANOUT_HEADER, SCHEDULED_HEADER
from bench.variants.launch import RunTopics, VariantSpec, free_port, output_topics, start, stop
from bench.workload import SOURCES
from bridgedev.simulate import SimMessage

WARMUP_SHARE = 0.1  # inputs scheduled in the first 10% of the run are not measured
DRAIN_S = 15.0


@dataclass
class LatencyRun:
    variant: str
    rate: float
    seconds: float
    sent: int
    outputs_measured: int
    p50_ms: float
    p90_ms: float
    p99_ms: float
    max_ms: float
    steady_rss_mib: float
    peak_rss_mib: float
    phases: dict[str, Any] | None = None  # the bridge's phases over the run (bench.phases)
    #: cores in use while inputs were sent: the machine, the variant, this harness, the rest
    #: (the broker, mostly)
    cores: dict[str, float] | None = None

    def to_dict(self) -> dict[str, Any]:
        return {k: round(v, 3) if isinstance(v, float) else v for k, v in asdict(self).items()}


async def latency_run(
    spec: VariantSpec,
    bootstrap: str,
    stream: list[SimMessage],
    fanouts: list[int],
    rate: float,
    seconds: float,
    stores: Stores,
    log_dir: Path,
) -> LatencyRun:
    variant = await launch(spec, "lat", bootstrap, stores, log_dir)
    process, probe, topics, group, port = (variant.process, variant.probe, variant.topics, variant.group, variant.port)
    count = min(len(stream), int(rate * seconds))
    received: list[tuple[int, Any]] = []
    phases = None
    with _harness_heap_frozen():
        try:
            await until_consuming(process, probe, bootstrap, group)
            before = await scrape(port) if port is not None else None
            sink = asyncio.create_task(_sink(bootstrap, list(topics.outputs.values()), received))
            await asyncio.sleep(1.0)  # the sink's assignment
            sampler = asyncio.create_task(_sample(probe))
            probe.sample()
            began, busy, own = time.monotonic(), machine_busy_seconds(), time.process_time()
            scheduled, positions = await _paced(
                bootstrap, topics, stream[:count], fanouts, rate, with_fanout=not spec.is_bridge
            )
            probe.sample()
            ended = time.monotonic()
            cores = _cores(
                ended - began, machine_busy_seconds() - busy, probe.cpu_between(began, ended), time.process_time() - own
            )
            expected = sum(fanouts[:count])
            deadline = time.monotonic() + DRAIN_S
            while len(received) < expected and time.monotonic() < deadline:
                await asyncio.sleep(0.1)
            sink.cancel()
            sampler.cancel()
            if port is not None:
                phases = per_event(before, await scrape(port))
        finally:
            variant.stop(stores)
    latencies = _latencies(received, scheduled, positions, stream[:count], warmup=int(count * WARMUP_SHARE))
    q = _quantiles(latencies)
    return LatencyRun(
        spec.name,
        rate,
        ended - began,
        count,
        len(latencies),
        q[50],
        q[90],
        q[99],
        max(latencies, default=0.0),
        probe.steady_rss_mib(began, ended),
        probe.peak_rss_mib,
        phases,
        cores,
    )


@dataclass
class Launched:
    """A variant started on topics of its own, consuming with a group of its own."""

    spec: VariantSpec
    process: Any
    probe: ProcessProbe
    topics: RunTopics
    group: str
    run_name: str
    port: int | None  # the bridge's HTTP port (its metrics)

    def stop(self, stores: Stores) -> None:
        stop(self.process)
        if self.spec.is_bridge and self.spec.backend == "sqlite":
            stores.discard(self.run_name)


async def launch(spec: VariantSpec, kind: str, bootstrap: str, stores: Stores, log_dir: Path) -> Launched:
    """Start ``spec`` on fresh topics (and a fresh store copy), named ``<kind>-<variant>-…``."""
    prefix = unique(f"{kind}-{spec.name}")
    topics = RunTopics({s: f"{prefix}.{s}.events" for s in SOURCES}, output_topics(spec, prefix))
    await create_topics(bootstrap, [*topics.inputs.values(), *topics.outputs.values()])
    run_name = prefix.replace(".", "-")
    store_url = await stores.store_for(spec, run_name) if spec.is_bridge else ""
    group = f"{prefix}.group"
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
    return Launched(spec, process, ProcessProbe(process.pid), topics, group, run_name, port)


@contextlib.contextmanager
def _harness_heap_frozen() -> Iterator[None]:
    """Keep the harness's own heap out of the garbage collector's sight while it measures.

    The harness holds the whole workload; a full collection walking it stalled the paced sender
    and the sink for up to 460 ms (measured with ``gc.callbacks``), and every output in flight
    would have carried that stall as latency of whichever variant was running.
    """
    gc.collect()
    gc.freeze()
    try:
        yield
    finally:
        gc.unfreeze()


def _cores(seconds: float, machine: float, variant: float, harness: float) -> dict[str, float]:
    share = {
        "machine": machine,
        "variant": variant,
        "harness": harness,
        "others": max(0.0, machine - variant - harness),
    }
    return {name: round(cpu / seconds, 2) for name, cpu in share.items()}


async def until_consuming(process: Any, probe: ProcessProbe, bootstrap: str, group: str) -> None:
    deadline = time.monotonic() + 90
    async with GroupWatch(bootstrap, group) as watch:
        while not await watch.stable():
            probe.sample()
            if process.poll() is not None:
                raise VariantFailed(f"exited with {process.returncode} before consuming")
            if time.monotonic() > deadline:
                raise VariantFailed("did not join its consumer group in 90 s")
            await asyncio.sleep(0.2)


async def _sample(probe: ProcessProbe) -> None:
    while True:
        probe.sample()
        await asyncio.sleep(0.25)


async def _sink(bootstrap: str, topics: list[str], received: list[tuple[int, Any]]) -> None:
    consumer = AIOKafkaConsumer(
        *topics,
        bootstrap_servers=bootstrap,
        group_id=None,
        auto_offset_reset="earliest",
        enable_auto_commit=False,
        fetch_max_wait_ms=5,
    )
    await consumer.start()
    try:
        while True:
            batch = await consumer.getmany(timeout_ms=50)
            now = time.time_ns()
            for records in batch.values():
                received.extend((now, record) for record in records)
    finally:
        await consumer.stop()


async def _paced(
    bootstrap: str, topics: RunTopics, stream: list[SimMessage], fanouts: list[int], rate: float, *, with_fanout: bool
) -> tuple[list[int], dict[tuple[str, int, int], int]]:
    producer = variant_producer(bootstrap)
    await producer.start()
    start_ns = time.time_ns() + 100_000_000
    scheduled = [start_ns + int(i * 1e9 / rate) for i in range(len(stream))]
    pending: list[Any] = []
    try:
        sent = 0
        while sent < len(stream):
            now = time.time_ns()
            while sent < len(stream) and scheduled[sent] <= now:
                message = stream[sent]
                headers = [(SCHEDULED_HEADER, str(scheduled[sent]).encode())]
                if with_fanout:
                    headers.append((FANOUT_HEADER, str(fanouts[sent]).encode()))
                pending.append(
                    await producer.send(topics.inputs[message.source], message.value, key=message.key, headers=headers)
                )
                sent += 1
            if sent < len(stream):
                await asyncio.sleep(max(0.0005, (scheduled[sent] - time.time_ns()) / 1e9))
        metadata = await asyncio.gather(*pending)
    finally:
        await producer.stop()
    return scheduled, {(m.topic, m.partition, m.offset): i for i, m in enumerate(metadata)}


def _latencies(
    received: list[tuple[int, Any]],
    scheduled: list[int],
    positions: dict[tuple[str, int, int], int],
    stream: list[SimMessage],
    warmup: int,
) -> list[float]:
    first_of_event: dict[str, int] = {}
    for i, message in enumerate(stream):
        event_id = (message.event or {}).get("event_id")
        if event_id and not message.kind.startswith("malformed"):
            first_of_event.setdefault(event_id, i)
    by_schedule = {str(ns): i for i, ns in enumerate(scheduled)}
    latencies = []
    for received_ns, record in received:
        index = _input_index(record, positions, first_of_event, by_schedule)
        if index is not None and index >= warmup:
            latencies.append((received_ns - scheduled[index]) / 1e6)
    return latencies


def _input_index(
    record: Any, positions: dict[tuple[str, int, int], int], first_of_event: dict[str, int], by_schedule: dict[str, int]
) -> int | None:
    headers = {k: v.decode() for k, v in record.headers or ()}
    if "x-bridge-original-offset" in headers:
        return positions.get(
            (
                headers["x-bridge-original-topic"],
                int(headers["x-bridge-original-partition"]),
                int(headers["x-bridge-original-offset"]),
            )
        )
    if SCHEDULED_HEADER in headers:  # a passthrough's copy carries its input's schedule
        return by_schedule.get(headers[SCHEDULED_HEADER])
    cause = (json.loads(record.value).get("caused_by") or {}).get("event_id")
    return first_of_event.get(cause) if cause else None


def _quantiles(values: list[float]) -> dict[int, float]:
    if len(values) < 2:
        only = values[0] if values else 0.0
        return {50: only, 90: only, 99: only}
    cuts = statistics.quantiles(values, n=100, method="inclusive")
    return {50: cuts[49], 90: cuts[89], 99: cuts[98]}
