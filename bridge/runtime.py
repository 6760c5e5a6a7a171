"""The delivery policy around one batch: process → publish → commit, with retries.

Order matters and is the whole point: the store transaction commits first, then the batch's
outbox rows are published (all sends in flight at once, then awaited together), then the Kafka
offsets are committed. A crash anywhere in between redelivers the batch; the dedupe keys make the
second pass change nothing, and unsent outbox rows are published by the relay. The "sent" marks
of one batch's rows are written in the next batch's transaction (one transaction per batch, not
two); a crash before that republishes those rows with the same ids, which the systems ignore.

Transient failures (store locked or down, broker unavailable) are retried with capped
exponential backoff and jitter while consumption waits; when the budget of one poll is spent the
batch is rewound (seek) and fetched again, so the consumer keeps polling and keeps its
partitions. Transient failures are never dead-lettered.

Any other exception that escapes a batch (one inside an event's flows costs only that event,
see ``bridge.pipeline.batch``) fails the batch: after a growing pause it is rewound and fetched
again, never acknowledged. Acknowledging nothing is not enough: the consumer's position has
moved on, and the next batch's commit would cover the failed one. A batch that fails
``isolate_after`` times in a row is then taken one record at a time; a record that still fails
on its own is dead-lettered (stage ``batch``), and the stream goes on.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass, field
from typing import Any, Protocol, Sequence

import stamina
import structlog
from aiokafka.errors import CommitFailedError

from bridge.failpoints import failpoint
from bridge.pipeline.batch import BatchProcessor, BatchResult
from bridge.pipeline.errors import is_transient, raised_at
from bridge.pipeline.outbox import OutboxRelay
from bridge.pipeline.records import RawRecord
from bridge.settings import RetrySettings

log = structlog.get_logger("bridge.runtime")


@dataclass
class RuntimeStats:
    batches: int = 0
    events: int = 0
    outcomes: dict[str, int] = field(default_factory=dict)
    transient_errors: int = 0
    rewinds: int = 0
    commit_failures: int = 0
    failures: int = 0
    consecutive_failures: int = 0
    last_error: str | None = None


class BatchObserver(Protocol):
    """Told what the runtime did (metrics, the status page); must not raise or block."""

    def on_batch(self, result: BatchResult, size: int, seconds: float) -> None: ...

    def on_transient_error(self, error: BaseException) -> None: ...

    def on_rewind(self) -> None: ...

    def on_commit_failure(self) -> None: ...

    def on_batch_failure(self, error: BaseException) -> None: ...


class DeliveryRuntime:
    """Runs batches through the processor and the outbox under the delivery policy."""

    def __init__(self, processor: BatchProcessor, relay: OutboxRelay, retry: RetrySettings,
                 observers: Sequence[BatchObserver] = ()) -> None:
        self.processor = processor
        self.relay = relay
        self.retry = retry
        self.stats = RuntimeStats()
        self.observers = list(observers)

    async def handle(self, message: Any) -> None:
        """Handle a FastStream batch message (``raw_message`` is a tuple of ConsumerRecords)."""
        raws = [RawRecord.from_consumer_record(r) for r in message.raw_message]
        try:
            await self._deliver(raws)
        except Exception as error:  # noqa: BLE001 - whatever it is, the batch must come again
            if not is_transient(error):
                await asyncio.sleep(self._failed(error, len(raws)))
                await message.nack()
                return
            self.stats.rewinds += 1
            for observer in self.observers:
                observer.on_rewind()
            log.warning("batch.rewound", error_class=type(error).__name__, records=len(raws))
            await message.nack()  # seek every partition of the batch back to its first record
            return
        self.stats.consecutive_failures = 0
        try:
            await message.ack()  # commit the consumed positions: exactly this batch's end
        except CommitFailedError as error:  # rebalanced away: the new owner redoes the batch
            self.stats.commit_failures += 1
            for observer in self.observers:
                observer.on_commit_failure()
            log.warning("offsets.commit_failed", error_class=type(error).__name__)

    async def _deliver(self, raws: Sequence[RawRecord]) -> None:
        """The batch whole; once it has failed ``isolate_after`` times in a row, one record at
        a time, dead-lettering a record that still fails on its own (so that a bug one record
        triggers outside its flows, in the flush or a hook, does not hold up the stream)."""
        if self.stats.consecutive_failures < self.retry.isolate_after:
            await self.run_with_retry(raws)
            return
        log.warning("batch.isolating", records=len(raws), failures=self.stats.consecutive_failures)
        for raw in raws:
            try:
                await self.run_with_retry([raw])
            except Exception as error:  # noqa: BLE001 - this record fails on its own
                if is_transient(error):
                    raise
                await self._dead_letter_alone(raw, error)

    async def _dead_letter_alone(self, raw: RawRecord, error: Exception) -> None:
        started = time.perf_counter()
        result = await self.processor.dead_letter_alone(raw, error)
        await self.relay.publish(result.outbox, defer_mark=True)
        log.error("record.isolated", error_class=type(error).__name__, raised_at=raised_at(error),
                  topic=raw.topic, partition=raw.partition, offset=raw.offset,
                  dead_lettered=bool(result.outbox))
        self._count(result, 1)
        for observer in self.observers:
            observer.on_batch(result, 1, time.perf_counter() - started)

    async def run_with_retry(self, raws: Sequence[RawRecord]) -> BatchResult:
        """Process and publish one batch, retrying transient failures within the budget."""
        started = time.perf_counter()
        async for attempt in stamina.retry_context(
            on=self._is_transient, attempts=None, timeout=self.retry.budget_s,
            wait_initial=self.retry.initial_delay_s, wait_max=self.retry.max_delay_s,
            wait_jitter=self.retry.initial_delay_s,
        ):
            with attempt:
                marks = self.relay.unmarked()  # the last batch's rows, marked sent in this one
                result = await self.processor.process(raws, published=marks)
                self.relay.forget(marks)
                failpoint("after_store_commit")
                await self.relay.publish(result.outbox, defer_mark=True)
        self._count(result, len(raws))
        elapsed = time.perf_counter() - started
        for observer in self.observers:
            observer.on_batch(result, len(raws), elapsed)
        return result

    def _is_transient(self, error: Exception) -> bool:
        if not is_transient(error):
            return False
        self.stats.transient_errors += 1
        self.stats.last_error = type(error).__name__
        for observer in self.observers:
            observer.on_transient_error(error)
        log.warning("batch.transient_error", error_class=type(error).__name__)
        return True

    def _failed(self, error: Exception, size: int) -> float:
        """Count and report an unexpected batch failure; the pause before the batch comes again."""
        self.stats.failures += 1
        self.stats.consecutive_failures += 1
        self.stats.last_error = type(error).__name__
        for observer in self.observers:
            observer.on_batch_failure(error)
        log.error("batch.failed", error_class=type(error).__name__, raised_at=raised_at(error),
                  records=size, attempt=self.stats.consecutive_failures)
        doubled = self.retry.initial_delay_s * 2 ** (self.stats.consecutive_failures - 1)
        return min(doubled, self.retry.max_delay_s)

    def _count(self, result: BatchResult, size: int) -> None:
        self.stats.batches += 1
        self.stats.events += size
        for outcome, n in result.outcomes.items():
            self.stats.outcomes[outcome] = self.stats.outcomes.get(outcome, 0) + n
        log.info("batch.done", events=size, commands=len(result.outbox), **result.outcomes)
