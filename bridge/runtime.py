"""The delivery policy around one batch: process → publish → commit, with retries.

Order matters and is the whole point: the store transaction commits first, then the batch's
outbox rows are handed to the producer (all sends in flight at once), and the batch's offsets
are committed (its own end offsets, explicitly) only once the broker has acknowledged every one
of them. That wait runs while the next batch is processed: the handler returns once the batch
is committed to the store and sent, and the next handler, at its end, waits until the batch
before it is settled. A crash anywhere in between redelivers the batch; the dedupe keys make the
second pass change nothing, and unsent outbox rows are published by the relay. A publish the
broker refuses rewinds its batch (and the one after it): fetched again, it finds its events
applied, and the relay publishes its rows. On shutdown, :meth:`DeliveryRuntime.stop` settles the
batch in flight while the consumer can still commit. The "sent" marks
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
from aiokafka.structs import TopicPartition

from bridge.commit import Consumer, OffsetCommitter, next_offsets
from bridge.failpoints import failpoint
from bridge.pipeline.batch import BatchProcessor, BatchResult
from bridge.pipeline.errors import is_transient, raised_at
from bridge.pipeline.isolation import each_alone
from bridge.pipeline.outbox import OutboxRelay
from bridge.pipeline.phases import PhaseTimes
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


class Delivery(Protocol):
    """One batch as the consumer hands it over: its records, and the consumer they came from."""

    @property
    def raw_message(self) -> Sequence[Any]:
        """The batch's ``ConsumerRecord``s."""
        ...

    @property
    def consumer(self) -> Consumer: ...


class BatchObserver(Protocol):
    """Told what the runtime did (metrics, the status page); must not raise or block."""

    def on_batch(self, result: BatchResult, size: int, seconds: float) -> None: ...

    def on_transient_error(self, error: BaseException) -> None: ...

    def on_rewind(self) -> None: ...

    def on_commit_failure(self) -> None: ...

    def on_batch_failure(self, error: BaseException) -> None: ...

    def on_phases(self, phases: PhaseTimes, size: int) -> None:
        """Where the time of one handled message went (``bridge.pipeline.phases``)."""


class DeliveryRuntime:
    """Runs batches through the processor and the outbox under the delivery policy."""

    def __init__(
        self,
        processor: BatchProcessor,
        relay: OutboxRelay,
        retry: RetrySettings,
        observers: Sequence[BatchObserver] = (),
        *,
        commit_interval_s: float = 0.0,
    ) -> None:
        self.processor = processor
        self.relay = relay
        self.retry = retry
        self.stats = RuntimeStats()
        self.observers = list(observers)
        self._commit_interval_s = commit_interval_s
        self._committer: OffsetCommitter | None = None
        self._progress = _Progress()
        self._phases = PhaseTimes()  # of the message being handled
        #: the last handled batch, settling (outputs acknowledged, then offsets committed)
        self._previous: asyncio.Future[bool] | None = None
        self._stopping = False

    async def handle(self, message: Delivery) -> None:
        """Handle one batch of records."""
        self._committer_for(message.consumer)
        raws = [RawRecord.from_consumer_record(r) for r in message.raw_message]
        self._phases = PhaseTimes()
        try:
            sent = await self._deliver(raws)
        except Exception as error:  # noqa: BLE001 - whatever it is, the batch must come again
            refused = await self._settle_previous()  # its offsets stop where this batch begins
            if not is_transient(error):
                await asyncio.sleep(self._failed(error, len(raws)))
            else:
                self._rewound(error, len(raws))
            await _rewind(message, refused)
            return
        self.stats.consecutive_failures = 0
        with self._phases.phase("settle"):
            refused = await self._settle_previous()
        if refused is not None:  # the broker refused the batch before: it comes again, this too
            await _rewind(message, refused)
            for future in sent:
                future.add_done_callback(_retrieved)
            return
        self._previous = asyncio.ensure_future(self._settle(sent, raws, message))
        if self._stopping:
            await self._settle_previous()
        for observer in self.observers:
            observer.on_phases(self._phases, len(raws))

    async def settle(self) -> None:
        """Wait until the last handled batch is settled: its outputs acknowledged, then its
        offsets committed (or it rewound). Partitions revoked, stopping: commit it all now."""
        await self._settle_previous()
        if self._committer is not None:
            await self._committer.flush()

    async def stop(self) -> None:
        """Before the consumer stops: settle the batch in flight, and from now on settle each
        batch before its handler returns."""
        self._stopping = True
        await self.settle()

    def _committer_for(self, consumer: Consumer) -> OffsetCommitter:
        """The committer of ``consumer`` (a new consumer, a new committer: the old one's
        settled offsets are the old consumer's, committed when it was revoked or stopped)."""
        committer = self._committer
        if committer is None or committer.consumer is not consumer:
            committer = self._committer = OffsetCommitter(
                consumer, self._commit_interval_s, on_failure=self._commit_failed
            )
        return committer

    def _commit_failed(self, error: BaseException) -> None:
        self.stats.commit_failures += 1
        for observer in self.observers:
            observer.on_commit_failure()

    async def _settle_previous(self) -> Any:
        """Wait for the batch before to settle; its message if it was refused (rewound)."""
        previous, self._previous = self._previous, None
        return None if previous is None else await previous

    async def _settle(self, sent: Sequence[asyncio.Future[None]], raws: Sequence[RawRecord], message: Any) -> Any:
        """Once the broker has acknowledged every output of the batch, commit its offsets;
        runs while the next batch is processed. A refused publish rewinds the batch instead:
        its rows stay unsent in the outbox, the relay publishes them again, and the batch,
        fetched again, finds its events applied. Returns the message when it was rewound."""
        try:
            await asyncio.gather(*sent)
        except Exception as error:  # noqa: BLE001 - any failure: the batch is not settled
            self.relay.owes = True  # its rows stay unsent: they go out before any later ones
            for future in sent:
                future.add_done_callback(_retrieved)
            if is_transient(error):
                self._is_transient(error)
            self._rewound(error, len(raws))
            await _rewind(message, None)
            return message
        self._committer_for(message.consumer).settled(next_offsets(message.raw_message))
        return None

    def _rewound(self, error: BaseException, size: int) -> None:
        self.stats.rewinds += 1
        for observer in self.observers:
            observer.on_rewind()
        log.warning("batch.rewound", error_class=type(error).__name__, records=size)

    async def _deliver(self, raws: Sequence[RawRecord]) -> list[asyncio.Future[None]]:
        """The batch whole; once it has failed ``isolate_after`` times in a row, one record at
        a time, dead-lettering a record that still fails on its own (so that a bug one record
        triggers outside its flows, in the flush or a hook, does not hold up the stream).
        Returns the publishes still in flight (the whole batch's)."""
        if self.stats.consecutive_failures < self.retry.isolate_after:
            _, sent = await self._attempts(raws)
            return [sent] if sent is not None else []
        log.warning("batch.isolating", records=len(raws), failures=self.stats.consecutive_failures)
        await each_alone(raws, self.run_with_retry, self._dead_letter_alone)
        return []

    async def _dead_letter_alone(self, raw: RawRecord, error: Exception) -> BatchResult:
        started = time.perf_counter()
        result = await self.processor.dead_letter_alone(raw, error)
        with result.phases.phase("publish"):
            await self.relay.publish(result.outbox, defer_mark=True)
        self._phases.add(result.phases)
        log.error(
            "record.isolated",
            error_class=type(error).__name__,
            raised_at=raised_at(error),
            **raw.position(),
            dead_lettered=bool(result.outbox),
        )
        self._count(result, 1)
        for observer in self.observers:
            observer.on_batch(result, 1, time.perf_counter() - started)
        return result

    async def run_with_retry(self, raws: Sequence[RawRecord]) -> BatchResult:
        """Process and publish one batch, retrying transient failures within the budget;
        returns once the broker has acknowledged every output."""
        result, sent = await self._attempts(raws)
        if sent is not None:
            await sent
        return result

    async def _attempts(self, raws: Sequence[RawRecord]) -> tuple[BatchResult, asyncio.Future[None] | None]:
        """Process one batch and hand its outputs to the producer, retrying transient failures
        within the budget; the publish is returned in flight."""
        started = time.perf_counter()
        try:
            # Most batches succeed at once: the retry machinery (~100 µs) only after a failure.
            result, sent = await self._attempt(raws)
        except Exception as error:
            if not self._is_transient(error):
                raise
            await asyncio.sleep(self.retry.initial_delay_s)
            async for attempt in stamina.retry_context(
                on=self._is_transient,
                attempts=None,
                timeout=self.retry.budget_s,
                wait_initial=self.retry.initial_delay_s,
                wait_max=self.retry.max_delay_s,
                wait_jitter=self.retry.initial_delay_s,
            ):
                with attempt:
                    result, sent = await self._attempt(raws)
        self._phases.add(result.phases)  # the attempt that succeeded
        self._count(result, len(raws))
        elapsed = time.perf_counter() - started
        for observer in self.observers:
            observer.on_batch(result, len(raws), elapsed)
        return result, sent

    async def _attempt(self, raws: Sequence[RawRecord]) -> tuple[BatchResult, asyncio.Future[None] | None]:
        try:
            return await self._process_and_publish(raws)
        except BaseException:
            self.relay.owes = True  # it may have committed rows it did not publish
            raise

    async def _process_and_publish(self, raws: Sequence[RawRecord]) -> tuple[BatchResult, asyncio.Future[None] | None]:
        marks = self.relay.unmarked()  # the last batch's rows, marked sent in this one
        result = await self.processor.process(raws, published=marks)
        self.relay.forget(marks)
        failpoint("after_store_commit")
        with result.phases.phase("publish"):
            if self.relay.owes:  # an earlier attempt's committed rows first, then these, in order
                await self.relay.settle_debt()
                return result, None
            sent = await self.relay.start_publish(result.outbox) if result.outbox else None
        return result, sent

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
        log.error(
            "batch.failed",
            error_class=type(error).__name__,
            raised_at=raised_at(error),
            records=size,
            attempt=self.stats.consecutive_failures,
        )
        doubled = self.retry.initial_delay_s * 2 ** (self.stats.consecutive_failures - 1)
        return float(min(doubled, self.retry.max_delay_s))

    def _count(self, result: BatchResult, size: int) -> None:
        self.stats.batches += 1
        self.stats.events += size
        for outcome, n in result.outcomes.items():
            self.stats.outcomes[outcome] = self.stats.outcomes.get(outcome, 0) + n
        # A line per batch is for debugging (tens of batches a second on a normal day); the
        # log says how the stream goes once a minute, and the metrics say it all the time.
        log.debug("batch.done", events=size, commands=len(result.outbox), **result.outcomes)
        self._progress.add(size, len(result.outbox), result.outcomes)


class _Progress:
    """What the stream did since the last ``stream.progress`` line (at most one a minute)."""

    EVERY_S = 60.0

    def __init__(self) -> None:
        self._since = time.monotonic()
        self._totals: dict[str, int] = {}

    def add(self, events: int, published: int, outcomes: dict[str, int]) -> None:
        totals = self._totals
        totals["batches"] = totals.get("batches", 0) + 1
        totals["events"] = totals.get("events", 0) + events
        totals["published"] = totals.get("published", 0) + published
        for outcome, n in outcomes.items():
            totals[outcome] = totals.get(outcome, 0) + n
        now = time.monotonic()
        if now - self._since >= self.EVERY_S:
            log.info("stream.progress", seconds=round(now - self._since), **totals)
            self._since, self._totals = now, {}


async def _rewind(message: Delivery, refused: Delivery | None) -> None:
    """Seek every partition of the batch back to its first record; then those of a refused batch
    before it (already rewound once) back to its own, which come earlier: the last seek wins."""
    for batch in (message, refused):
        if batch is not None:
            earliest: dict[TopicPartition, int] = {}
            for record in batch.raw_message:
                tp = TopicPartition(record.topic, record.partition)
                earliest[tp] = min(earliest.get(tp, record.offset), record.offset)
            for tp, offset in earliest.items():
                batch.consumer.seek(tp, offset)


def _retrieved(future: asyncio.Future[Any]) -> None:
    """Mark a failed publish's error as seen: it was handled where the batch was rewound."""
    if not future.cancelled():
        future.exception()
