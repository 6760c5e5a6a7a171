"""Commit settled offsets at most every ``interval``, and at once when it matters.

An offset commit is a round trip to the group coordinator, ~260 µs of CPU in aiokafka here. At
tens of events per second most batches hold one event, so committing every batch would cost
more than handling it. Committing less often loses nothing: a batch whose offsets were not
committed is fetched again after a crash or a rebalance, and its events are found applied
(dedupe), its outbox rows published (same ids). So settled offsets are merged and committed:

* at once if the last commit is ``interval`` old (a drain commits every ``interval``);
* else when ``interval`` has passed since the last commit (so no settled batch waits longer);
* at once on :meth:`OffsetCommitter.flush`: partitions revoked, the bridge stopping.

Only partitions the consumer still owns are committed: an offset of a partition another
instance took over is that instance's to commit.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Callable, Iterable, Mapping
from typing import Any, Protocol

import structlog
from aiokafka.structs import OffsetAndMetadata, TopicPartition

log = structlog.get_logger("bridge.commit")


class Consumer(Protocol):
    """What the runtime and the committer need of the Kafka consumer (aiokafka's)."""

    async def commit(self, offsets: dict[TopicPartition, OffsetAndMetadata]) -> None: ...

    def seek(self, partition: TopicPartition, offset: int) -> None: ...

    def assignment(self) -> set[TopicPartition]: ...


def next_offsets(records: Iterable[Any]) -> dict[TopicPartition, int]:
    """The offsets to commit after a batch: past its last record in each partition."""
    ends: dict[TopicPartition, int] = {}
    for record in records:
        tp = TopicPartition(record.topic, record.partition)
        ends[tp] = max(ends.get(tp, -1), record.offset + 1)
    return ends


class OffsetCommitter:
    def __init__(
        self, consumer: Consumer, interval_s: float, on_failure: Callable[[BaseException], None] | None = None
    ) -> None:
        self.consumer = consumer
        self._interval_s = interval_s
        self._on_failure = on_failure
        self._pending: dict[TopicPartition, int] = {}
        self._last = 0.0  # monotonic time of the last commit
        self._lock = asyncio.Lock()
        self._timer: asyncio.TimerHandle | None = None
        self._tasks: set[asyncio.Task[None]] = set()
        self.commits = 0

    def settled(self, offsets: Mapping[TopicPartition, int]) -> None:
        """A batch is settled: its offsets may be committed (now, or within ``interval``)."""
        for tp, offset in offsets.items():
            if offset > self._pending.get(tp, -1):
                self._pending[tp] = offset
        due = self._last + self._interval_s - time.monotonic()
        if due <= 0:
            self._start_commit()
        elif self._timer is None:
            self._timer = asyncio.get_running_loop().call_later(due, self._start_commit)

    async def flush(self) -> None:
        """Commit what is settled now (partitions revoked, stopping), after any commit running."""
        self._cancel_timer()
        await self._commit()

    async def close(self) -> None:
        """Flush, and wait for commits started in the background."""
        await self.flush()
        for task in list(self._tasks):
            with contextlib.suppress(asyncio.CancelledError):
                await task

    def _start_commit(self) -> None:
        self._cancel_timer()
        task = asyncio.get_running_loop().create_task(self._commit())
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    def _cancel_timer(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None

    async def _commit(self) -> None:
        async with self._lock:
            if not self._pending:
                return
            owned = self.consumer.assignment()
            offsets = {tp: OffsetAndMetadata(offset, "") for tp, offset in self._pending.items() if tp in owned}
            self._pending.clear()
            self._last = time.monotonic()
            if not offsets:
                return
            try:
                await self.consumer.commit(offsets)
                self.commits += 1
            except Exception as error:  # noqa: BLE001 - rebalanced away, or the broker is gone:
                # the batches are done all the same; whoever consumes next redoes them and
                # finds them applied
                log.warning("offsets.commit_failed", error_class=type(error).__name__)
                if self._on_failure is not None:
                    self._on_failure(error)
