"""What one running bridge knows about itself: metrics, recent history, last error.

:class:`Telemetry` is the runtime's observer (``BatchObserver``); the HTTP routes (``/metrics``,
``/ready``, ``/status.json``) and the sampler read it. Per-event log lines carry ids and
outcomes, never payload values.
"""

from __future__ import annotations

import logging
import time
from collections import deque
from dataclasses import asdict, dataclass
from typing import Any, Collection

import structlog
from sqlalchemy.ext.asyncio import AsyncEngine

from bridge.observability.lag import PartitionLag
from bridge.observability.metrics import BridgeMetrics
from bridge.observability.progress import ProgressTracker, TopicPartition, is_store_error
from bridge.pipeline.batch import BatchResult
from bridge.pipeline.phases import PhaseTimes
from bridge.settings import Settings

log = structlog.get_logger("bridge.events")


@dataclass(frozen=True)
class Sample:
    """Totals at one moment; the status page draws rates from consecutive samples."""

    at: float
    events: int
    commands: int
    dead_letters: int
    lag: int | None
    backlog: int | None


class Telemetry:
    """The runtime's observer and the state the HTTP surface shows."""

    def __init__(self, settings: Settings, history_size: int = 300) -> None:
        self.settings = settings
        self.metrics = BridgeMetrics()
        self.history: deque[Sample] = deque(maxlen=history_size)
        self.events = 0
        self.commands = 0
        self.dead_letters = 0
        self.lag: list[PartitionLag] | None = None
        self.backlog: int | None = None
        self.last_error: dict[str, Any] | None = None
        self.read_engine: AsyncEngine | None = None  # a reader, opened by the lifespan
        self.progress = ProgressTracker(settings.probes)
        # read when scraped: the same moment /ready judges by
        self.metrics.store_write_failing.set_function(lambda: float(self.progress.store_failure() is not None))
        self.started_at = time.time()

    # -- BatchObserver -----------------------------------------------------------------------

    def on_batch(self, result: BatchResult, size: int, seconds: float) -> None:
        self.metrics.record_batch(result, size, seconds)
        self.progress.store_written()
        self.events += size
        # Per-event lines only when asked for: building them costs ~1.5% of a batch.
        detailed = log.is_enabled_for(logging.DEBUG)
        for event, outcome in result.events if detailed else ():
            if event is not None:
                log.debug(
                    "event.processed",
                    event_id=event.event_id,
                    source=event.source,
                    table=event.table,
                    sys_id=event.sys_id,
                    operation=event.operation,
                    outcome=outcome,
                )
        for row in result.outbox:
            if row.get("kind") == "dead_letter":
                self.dead_letters += 1
                _log_dead_letter(row)
            else:
                self.commands += 1
                if detailed:
                    log.debug(
                        "command.emitted",
                        message_id=row.get("message_id"),
                        target=row.get("target"),
                        table=row.get("target_table"),
                        rule=row.get("rule"),
                        cause_event_id=row.get("cause_event_id"),
                        mapping_version=row.get("mapping_version"),
                    )

    def on_phases(self, phases: PhaseTimes, size: int) -> None:
        self.metrics.record_phases(phases)

    def on_transient_error(self, error: BaseException) -> None:
        self.metrics.transient_errors.labels(type(error).__name__).inc()
        self._store_failed_if(error)
        self.last_error = {"error_class": type(error).__name__, "at": time.time(), "kind": "transient"}

    def on_rewind(self) -> None:
        self.metrics.rewinds.inc()

    def on_commit_failure(self) -> None:
        self.metrics.commit_failures.inc()
        self.last_error = {"error_class": "CommitFailedError", "at": time.time(), "kind": "offset_commit"}

    def on_batch_failure(self, error: BaseException) -> None:
        self.metrics.batch_failures.labels(type(error).__name__).inc()
        self._store_failed_if(error)
        self.last_error = {"error_class": type(error).__name__, "at": time.time(), "kind": "batch_failure"}

    def _store_failed_if(self, error: BaseException) -> None:
        if is_store_error(error):
            self.progress.store_failed(error)

    # -- fed by the sampler -------------------------------------------------------------------

    def record_sample(
        self, lag: list[PartitionLag] | None, backlog: int | None, assigned: Collection[TopicPartition] | None = None
    ) -> Sample:
        """A sample of the group's lag (None: the broker did not answer) and the outbox
        backlog; ``assigned``: the partitions this instance consumes (None: not known)."""
        self.lag, self.backlog = lag, backlog
        if lag is not None:
            self.metrics.set_lag({(p.topic, p.partition): p.lag for p in lag})
            stalls = self.progress.observe(lag, assigned)
            self.metrics.set_stalled(self.progress.partitions, {(s.topic, s.partition) for s in stalls})
        if backlog is not None:
            self.metrics.outbox_backlog.set(backlog)
        sample = Sample(
            time.time(),
            self.events,
            self.commands,
            self.dead_letters,
            sum(p.lag for p in lag) if lag is not None else None,
            backlog,
        )
        self.history.append(sample)
        return sample

    def history_json(self) -> list[dict[str, Any]]:
        return [asdict(s) for s in self.history]


def _log_dead_letter(row: dict[str, Any]) -> None:
    headers = row.get("headers") or {}
    log.info(
        "event.dead_lettered",
        event_id=row.get("cause_event_id"),
        sys_id=row.get("cause_sys_id"),
        reason=headers.get("x-bridge-reason"),
        stage=headers.get("x-bridge-stage"),
        error_class=headers.get("x-bridge-error-class"),
        dead_letter_id=headers.get("x-bridge-dead-letter-id"),
        topic=headers.get("x-bridge-original-topic"),
        partition=headers.get("x-bridge-original-partition"),
        offset=headers.get("x-bridge-original-offset"),
        mapping_version=row.get("mapping_version"),
    )
