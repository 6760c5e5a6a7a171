"""What irrelevant mapping rules cost, measured batch by batch against the shipped mappings.

The target is a difference of 5%. Two drains through the broker cannot resolve that on this
machine: drains of the same code, one after the other, differ by 10% and more. So both
configurations run here, in one process, each on its own copy of the same seeded store, and
they are fed the same batches of the workload. For each batch they take turns (shipped mappings
first, then extra rules first for the next batch, and so on), and the CPU time of each
``BatchProcessor.process`` call is added up (the process's, so the store's thread counts).
Anything that slows the machine during one batch slows both turns of that batch. The processor
is built the same way the bridge builds it (``build_processor``). What it leaves out (Kafka, the
outbox relay) does not depend on the rules.

The extra maps never apply, so both processors must publish the same outbox rows, batch by
batch. If they do not, the comparison raises instead of reporting a cost.
"""

from __future__ import annotations

import gc
import statistics
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, Sequence

from bench.store_seed import SqliteTemplates
from bridge.gc_tuning import tune_for_batches
from bridge.mapping import load_mapping_set
from bridge.pipeline.factory import build_processor
from bridge.pipeline.records import RawRecord
from bridge.settings import Settings, StoreSettings
from bridge.store.batch_store import open_batch_store
from bridgedev.simulate import SimMessage

WARMUP_BATCHES = 2  # first use of each statement and code path: not timed
MIN_BATCHES = 8


class OutputsDiffer(AssertionError):
    """The two mapping sets did not emit the same rows: the extra rules were not irrelevant."""


@dataclass
class PairedRun:
    label: str
    batches: int
    events: int
    base_cpu_us_per_event: float
    variant_cpu_us_per_event: float
    ratio: float  # base CPU / variant CPU: the variant's throughput relative to the base
    batch_ratio_p25: float
    batch_ratio_p50: float
    batch_ratio_p75: float

    def to_dict(self) -> dict[str, Any]:
        return {k: round(v, 4) if isinstance(v, float) else v for k, v in asdict(self).items()}


async def paired_rules_run(
    stream: Sequence[SimMessage],
    templates: SqliteTemplates,
    links: int,
    base_mappings: Path,
    variant_mappings: Path,
    *,
    label: str = "extra_rules",
) -> PairedRun:
    """Process ``stream`` with both mapping folders on copies of the ``links`` store, alternating."""
    settings = Settings()
    topics = settings.topics.events()
    raws = [RawRecord(topics[m.source], 0, offset, m.key, m.value) for offset, m in enumerate(stream)]
    # The bridge's batch size, smaller on a short workload so that there are batches to warm up
    # on and batches to time.
    size = max(1, min(settings.consumer.max_records, len(raws) // MIN_BATCHES))
    batches = [raws[start : start + size] for start in range(0, len(raws), size)]
    warmup = WARMUP_BATCHES if len(batches) > WARMUP_BATCHES else 0
    stores, processors = [], []
    threshold = gc.get_threshold()
    try:
        for name, folder in (("paired-base", base_mappings), ("paired-variant", variant_mappings)):
            store = open_batch_store(StoreSettings(url=await templates.copy(links, name)))
            await store.open()
            mappings = load_mapping_set(folder)
            stores.append(store)
            processors.append(build_processor(store, settings, lambda m=mappings: m))
        tune_for_batches()  # as the bridge does once started: the workload is frozen too
        cpu = ([], [])  # seconds per batch: base, variant
        for index, batch in enumerate(batches):
            order = (0, 1) if index % 2 == 0 else (1, 0)
            spent = [0.0, 0.0]
            emitted: list[list[tuple[str, bytes]]] = [[], []]
            for which in order:
                began = time.process_time()
                result = await processors[which].process(batch)
                spent[which] = time.process_time() - began
                emitted[which] = [(row["message_id"], row["payload"]) for row in result.outbox]
            if emitted[0] != emitted[1]:
                raise OutputsDiffer(
                    f"batch {index}: the two mapping sets emitted different rows "
                    f"({len(emitted[0])} and {len(emitted[1])}); the {label} maps "
                    "are not irrelevant to this workload"
                )
            if index >= warmup:
                cpu[0].append(spent[0])
                cpu[1].append(spent[1])
    finally:
        for store in stores:
            await store.close()
        gc.unfreeze()
        gc.set_threshold(*threshold)
    timed_events = sum(len(b) for b in batches[warmup:])
    if not timed_events:
        raise ValueError("an empty workload")
    per_batch = sorted(b / v for b, v in zip(*cpu, strict=True) if v > 0)
    quartiles = statistics.quantiles(per_batch, n=4) if len(per_batch) > 1 else per_batch * 3
    return PairedRun(
        label=label,
        batches=len(cpu[0]),
        events=timed_events,
        base_cpu_us_per_event=sum(cpu[0]) / timed_events * 1e6,
        variant_cpu_us_per_event=sum(cpu[1]) / timed_events * 1e6,
        ratio=sum(cpu[0]) / sum(cpu[1]),
        batch_ratio_p25=quartiles[0],
        batch_ratio_p50=quartiles[1],
        batch_ratio_p75=quartiles[2],
    )
