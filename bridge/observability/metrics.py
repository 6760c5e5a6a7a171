"""The bridge's domain metrics, on a registry of its own (one per bridge, never the global one).

Counters and histograms are fed by the runtime (``BatchObserver``); the gauges for state that
lives elsewhere (consumer lag, outbox backlog, mapping reloads) are set by the sampler.
"""

from __future__ import annotations

from collections import Counter as Tally
from typing import Container, Iterable, Mapping

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

from bridge.pipeline.batch import BatchResult
from bridge.pipeline.phases import PHASES, PhaseTimes

BATCH_SIZE_BUCKETS = (1, 5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000, 10000)
LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60)


class BridgeMetrics:
    """Prometheus metrics of one bridge; ``registry`` is what ``/metrics`` serves."""

    def __init__(self, registry: CollectorRegistry | None = None) -> None:
        self.registry = registry or CollectorRegistry()
        r = self.registry
        self.events = Counter(
            "bridge_events",
            "Input events by source system, table and outcome",
            ["source", "table", "outcome"],
            registry=r,
        )
        self.commands = Counter(
            "bridge_commands", "Commands written to the outbox", ["target", "table", "operation"], registry=r
        )
        self.dead_letters = Counter(
            "bridge_dead_letters", "Input dead-lettered, by reason code", ["reason"], registry=r
        )
        self.batch_size = Histogram("bridge_batch_size", "Events per batch", buckets=BATCH_SIZE_BUCKETS, registry=r)
        self.batch_seconds = Histogram(
            "bridge_batch_duration_seconds",
            "Time to process and publish one batch (retries included)",
            buckets=LATENCY_BUCKETS,
            registry=r,
        )
        self.phase_seconds = Counter(
            "bridge_batch_phase_seconds",
            "Wall-clock time spent in each phase of handling "
            "batches (decode, prefetch, flows, flush, commit, publish, settle)",
            ["phase"],
            registry=r,
        )
        self.phase_cpu_seconds = Counter(
            "bridge_batch_phase_cpu_seconds",
            "CPU time of the event loop's thread in each phase "
            "of handling batches; wall minus CPU is waiting (disk, broker, a busy machine)",
            ["phase"],
            registry=r,
        )
        # Every phase is exported from the start, at 0; the children are kept (a batch adds
        # to all of them, and a lookup by label costs more than the addition).
        self._phase_wall = {phase: self.phase_seconds.labels(phase) for phase in PHASES}
        self._phase_cpu = {phase: self.phase_cpu_seconds.labels(phase) for phase in PHASES}
        self.transient_errors = Counter(
            "bridge_transient_errors", "Transient errors retried, by class", ["error_class"], registry=r
        )
        self.rewinds = Counter("bridge_batch_rewinds", "Batches rewound after the retry budget", registry=r)
        self.commit_failures = Counter(
            "bridge_offset_commit_failures", "Offset commits that failed (rebalance)", registry=r
        )
        self.batch_failures = Counter(
            "bridge_batch_failures",
            "Batches failed by an unexpected error and fetched again, by class",
            ["error_class"],
            registry=r,
        )
        self.consumer_lag = Gauge(
            "bridge_consumer_lag", "Events not yet committed by the group", ["topic", "partition"], registry=r
        )
        self.partition_stalled = Gauge(
            "bridge_partition_stalled",
            "1 while a partition this instance consumes has lag and "
            "its committed offset has not moved for BRIDGE_PROBES__STALL_AFTER_S",
            ["topic", "partition"],
            registry=r,
        )
        self.store_write_failing = Gauge(
            "bridge_store_write_failing",
            "1 while no store write has succeeded for BRIDGE_PROBES__STORE_FAILING_S since one failed",
            registry=r,
        )
        self.loop_blocks = Counter(
            "bridge_event_loop_blocks",
            "Times the event loop did not turn for longer than BRIDGE_PROBES__LOOP_BLOCKED_S",
            registry=r,
        )
        self.outbox_backlog = Gauge("bridge_outbox_backlog", "Outbox rows not yet published", registry=r)
        self.outbox_refused = Gauge(
            "bridge_outbox_refused",
            "Outbox rows the broker refused for good (too large, say), set aside until the next start",
            registry=r,
        )
        self.wal_pages = Gauge(
            "bridge_sqlite_wal_pages",
            "SQLite only: pages in the write-ahead log at the last checkpoint "
            "(it cycles up to 10,000; above that, a reader holds an old "
            "snapshot)",
            registry=r,
        )
        self.mapping_reloads = Gauge(
            "bridge_mapping_reloads", "Mapping sets activated by hot reload since start", registry=r
        )
        self.mapping_rejections = Gauge(
            "bridge_mapping_reload_rejections", "Mapping changes rejected as invalid since start", registry=r
        )
        self.mapping_info = Gauge(
            "bridge_mapping_info", "The active mapping set (value 1)", ["version", "content_hash"], registry=r
        )
        self.ready = Gauge(
            "bridge_ready",
            "1 when the last sample found what /ready checks: the broker and the "
            "store answering, mappings loaded; else 0 (for alerts)",
            registry=r,
        )

    # -- fed by the runtime ----------------------------------------------------------------

    def record_batch(self, result: BatchResult, size: int, seconds: float) -> None:
        self.batch_size.observe(size)
        self.batch_seconds.observe(seconds)
        # Counted first, then one increment per label set: a labelled child costs a lookup.
        events = Tally(
            (e.source, e.table, outcome) if e is not None else ("unknown", "unknown", outcome)
            for e, outcome in result.events
        )
        for (source, table, outcome), n in events.items():
            self.events.labels(source, table, outcome).inc(n)
        reasons: Tally[str] = Tally()
        commands: Tally[tuple[str, str, str]] = Tally()
        for row in result.outbox:
            if row.get("kind") == "dead_letter":
                reasons[(row.get("headers") or {}).get("x-bridge-reason", "unknown")] += 1
            else:
                # the contract: an insert has no sys_id yet, an update names its target
                commands[
                    (
                        row.get("target") or "",
                        row.get("target_table") or "",
                        "update" if row.get("target_sys_id") else "insert",
                    )
                ] += 1
        for reason, n in reasons.items():
            self.dead_letters.labels(reason).inc(n)
        for labels, n in commands.items():
            self.commands.labels(*labels).inc(n)

    def record_phases(self, phases: PhaseTimes) -> None:
        for phase, seconds in phases.wall.items():
            self._phase_wall[phase].inc(seconds)
        for phase, seconds in phases.cpu.items():
            self._phase_cpu[phase].inc(seconds)

    # -- set by the sampler ----------------------------------------------------------------

    def set_lag(self, lag: Mapping[tuple[str, int], int]) -> None:
        self.consumer_lag.clear()
        for (topic, partition), value in lag.items():
            self.consumer_lag.labels(topic, str(partition)).set(value)

    def set_stalled(self, partitions: Iterable[tuple[str, int]], stalled: Container[tuple[str, int]]) -> None:
        self.partition_stalled.clear()
        for topic, partition in partitions:
            self.partition_stalled.labels(topic, str(partition)).set((topic, partition) in stalled)

    def set_mappings(self, version: str, content_hash: str, reloads: int, rejections: int) -> None:
        self.mapping_info.clear()
        self.mapping_info.labels(version, content_hash).set(1)
        self.mapping_reloads.set(reloads)
        self.mapping_rejections.set(rejections)
