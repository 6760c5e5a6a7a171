"""What tracing costs a batch: ``BatchProcessor.process`` in-process (no Kafka) on the benchmark's
workload, batches of 500, on a seeded SQLite store, with tracing off (the default) and on.

Tracing on: the SDK's tracer provider with a batching processor whose exporter drops the spans
(what the bridge pays, not what a collector costs), every event carrying a ``traceparent``.
Off and on run alternately on fresh copies of the store, several rounds; the CPU time of the
process (both threads: the event loop's and SQLite's) per batch is compared by median.
The off path's own statements (one comparison and one ``len`` per record) are timed apart.

``python -m bench.tracing_cost [--events N] [--rounds N]``; writes
``bench/results/tracing_cost.txt``.
"""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import secrets
import statistics
import tempfile
import time
import timeit
from collections.abc import Sequence
from pathlib import Path

from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor, SpanExporter, SpanExportResult

from bench.config import RESULTS
from bench.store_seed import SqliteTemplates
from bench.workload import build_stream
from bridge.flows import default_router
from bridge.mapping import load_mapping_set
from bridge.pipeline.batch import BatchProcessor
from bridge.pipeline.factory import change_hooks
from bridge.pipeline.records import RawRecord
from bridge.pipeline.tracing import EventTracing
from bridge.settings import StoreSettings, TopicNames
from bridge.store.batch_store import open_batch_store

MAPPINGS = Path(__file__).resolve().parents[1] / "mappings"
BATCH = 500


class _Dropping(SpanExporter):
    def export(self, spans: Sequence[ReadableSpan]) -> SpanExportResult:
        return SpanExportResult.SUCCESS


async def _run(
    raws: list[RawRecord], tracing: EventTracing | None, templates: SqliteTemplates, name: str, links: int
) -> list[float]:
    url = await templates.copy(links, name)
    store = open_batch_store(StoreSettings(url=url))
    await store.open()
    mappings = load_mapping_set(MAPPINGS)
    processor = BatchProcessor(store, TopicNames(), default_router(), lambda: mappings, change_hooks(), tracing=tracing)
    cpu = []
    for start in range(0, len(raws), BATCH):
        began = time.process_time()
        await processor.process(raws[start : start + BATCH])
        cpu.append(time.process_time() - began)
    await store.close()
    return cpu


def _off_path_ns() -> float:
    """The statements tracing adds to each record when off, per record."""
    setup = "traced = None; outbox = []; index = 0"
    statement = (
        "span = traced.start_record(index) if traced is not None else None\n"
        "written = len(outbox)\n"
        "if span is not None and traced is not None: pass"
    )
    n = 1_000_000
    return min(timeit.repeat(statement, setup, number=n, repeat=5)) / n * 1e9


async def measure(events: int, rounds: int, links: int) -> str:
    topics = TopicNames()
    stream = build_stream(7, "small", events)
    plain = [RawRecord(topics.events()[m.source], 0, i, m.key, m.value) for i, m in enumerate(stream)]
    traced = [
        dataclasses.replace(
            r, headers=(("traceparent", f"00-{secrets.token_hex(16)}-{secrets.token_hex(8)}-01".encode()),)
        )
        for r in plain
    ]
    provider = TracerProvider()
    provider.add_span_processor(BatchSpanProcessor(_Dropping()))
    tracing = EventTracing(provider.get_tracer("bench"))
    off: list[float] = []
    on: list[float] = []
    with tempfile.TemporaryDirectory(prefix="bridge-tracing-") as scratch:
        templates = SqliteTemplates(Path(scratch))
        for round_ in range(rounds):
            off += await _run(plain, None, templates, f"off{round_}", links)
            on += await _run(traced, tracing, templates, f"on{round_}", links)
    provider.shutdown()
    off_ms, on_ms = statistics.median(off) * 1e3, statistics.median(on) * 1e3
    ns = _off_path_ns()
    return (
        f"{events} events x {rounds} rounds, batches of {BATCH}, CPU per batch (median):\n"
        f"  tracing off: {off_ms:.1f} ms ({off_ms / BATCH * 1e3:.0f} µs/event)\n"
        f"  tracing on:  {on_ms:.1f} ms ({on_ms / BATCH * 1e3:.0f} µs/event), "
        f"+{(on_ms / off_ms - 1) * 100:.1f}%\n"
        f"  the off path's own statements: {ns:.0f} ns/record = "
        f"{ns * BATCH / 1e6:.3f} ms/batch ({ns * BATCH / 1e6 / off_ms * 100:.2f}% of a batch)\n"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=5000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--links", type=int, default=10_000)
    args = parser.parse_args()
    text = asyncio.run(measure(args.events, args.rounds, args.links))
    print(text, end="")
    (RESULTS / "tracing_cost.txt").write_text(text)


if __name__ == "__main__":
    main()
