"""Where the bridge's time goes: cProfile over ``BatchProcessor.process`` on the benchmark's
workload, in-process (no Kafka), on a seeded SQLite store, batches of 500. cProfile sees the
event loop's thread: the statements SQLite runs in the store's thread show as waiting.

``python -m bench.profile [--events N] [--links N] [--top 20]`` prints the top functions by own
time and by cumulative time, and writes them to ``bench/results/profile.txt``.
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import io
import pstats
import tempfile
import time
from pathlib import Path

from bench.config import RESULTS
from bench.store_seed import SqliteTemplates
from bench.workload import build_stream
from bridge.flows import default_router
from bridge.mapping import load_mapping_set
from bridge.pipeline.batch import BatchProcessor
from bridge.pipeline.factory import change_hooks
from bridge.pipeline.records import RawRecord
from bridge.settings import StoreSettings, TopicNames
from bridge.store.batch_store import open_batch_store

MAPPINGS = Path(__file__).resolve().parents[1] / "mappings"
BATCH = 500


async def profile(events: int, links: int, top: int) -> str:
    stream = build_stream(7, "small", events)
    topics = TopicNames()
    raws = [RawRecord(topics.events()[m.source], 0, i, m.key, m.value) for i, m in enumerate(stream)]
    with tempfile.TemporaryDirectory(prefix="bridge-profile-") as scratch:
        url = await SqliteTemplates(Path(scratch)).copy(links, "profile")
        store = open_batch_store(StoreSettings(url=url))
        await store.open()
        mappings = load_mapping_set(MAPPINGS)
        processor = BatchProcessor(store, topics, default_router(), lambda: mappings, change_hooks())
        profiler = cProfile.Profile()
        began = time.perf_counter()
        profiler.enable()
        for start in range(0, len(raws), BATCH):
            await processor.process(raws[start : start + BATCH])
        profiler.disable()
        elapsed = time.perf_counter() - began
        await store.close()
    out = io.StringIO()
    out.write(
        f"{len(raws)} events in {elapsed:.1f} s under cProfile "
        f"({len(raws) / elapsed:.0f} events/s, {elapsed / len(raws) * 1e6:.0f} µs/event; "
        f"store seeded with {links} links)\n\n"
    )
    for order in ("tottime", "cumulative"):
        out.write(f"--- top {top} by {order} ---\n")
        pstats.Stats(profiler, stream=out).strip_dirs().sort_stats(order).print_stats(top)
    return out.getvalue()


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.profile")
    parser.add_argument("--events", type=int, default=10_000)
    parser.add_argument("--links", type=int, default=10_000)
    parser.add_argument("--top", type=int, default=20)
    args = parser.parse_args()
    text = asyncio.run(profile(args.events, args.links, args.top))
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "profile.txt").write_text(text)
    print(text)


if __name__ == "__main__":
    main()
