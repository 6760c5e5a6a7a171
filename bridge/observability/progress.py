"""Is the stream moving? Partitions that hold still while they have lag, and a store that
cannot be written.

A bridge can be alive (its loop turns, its consumer polls) and still move nothing: a batch
retried forever, a store out of disk or locked by someone else. The sampler's lag samples say
when each partition's committed offset last moved; a partition this instance consumes that has
lag and has not moved for ``stall_after_s`` is stalled. The runtime's observers say when the
store last took a batch and when it last refused one: failing for ``store_failing_s`` with no
success since, it cannot be written. Both make ``/ready`` fail, naming the partition and the
last error (``bridge status`` shows them; the README says how to get the stream moving).
"""

from __future__ import annotations

import time
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from typing import Any

from bridge.observability.lag import PartitionLag
from bridge.settings import ProbeSettings

TopicPartition = tuple[str, int]

#: Where the exceptions of the store's drivers and of SQLAlchemy live.
_STORE_MODULES = frozenset({"sqlite3", "aiosqlite", "asyncpg", "sqlalchemy"})


def is_store_error(error: BaseException) -> bool:
    return type(error).__module__.split(".")[0] in _STORE_MODULES


@dataclass(frozen=True)
class Stall:
    topic: str
    partition: int
    lag: int
    committed: int | None
    since: float  # time.time() when its committed offset last moved (or was first seen)

    def as_json(self, now: float) -> dict[str, Any]:
        return {
            "topic": self.topic,
            "partition": self.partition,
            "lag": self.lag,
            "committed": self.committed,
            "stalled_for_s": round(now - self.since, 1),
        }


class ProgressTracker:
    def __init__(self, probes: ProbeSettings) -> None:
        self._stall_after_s = probes.stall_after_s
        self._store_failing_s = probes.store_failing_s
        #: per partition: its committed offset, and since when it has been that
        self._positions: dict[TopicPartition, tuple[int | None, float]] = {}
        self.stalls: list[Stall] = []
        self.partitions: list[TopicPartition] = []  # every partition of the last sample
        self._store_failing_since: float | None = None
        self._store_error: str | None = None

    def observe(
        self, lag: Sequence[PartitionLag], assigned: Collection[TopicPartition] | None, now: float | None = None
    ) -> list[Stall]:
        """Take a lag sample; the partitions of ``assigned`` (all, when None: not known) that
        are stalled now."""
        now = time.time() if now is None else now
        stalls: list[Stall] = []
        seen: dict[TopicPartition, tuple[int | None, float]] = {}
        for p in lag:
            key = (p.topic, p.partition)
            committed, since = self._positions.get(key, (p.committed, now))
            if committed != p.committed or p.lag == 0:
                since = now  # it moved, or has nothing to do
            seen[key] = (p.committed, since)
            if p.lag > 0 and now - since >= self._stall_after_s and (assigned is None or key in assigned):
                stalls.append(Stall(p.topic, p.partition, p.lag, p.committed, since))
        self._positions = seen
        self.partitions = list(seen)
        self.stalls = stalls
        return stalls

    def store_written(self) -> None:
        self._store_failing_since = None

    def store_failed(self, error: BaseException, now: float | None = None) -> None:
        if self._store_failing_since is None:
            self._store_failing_since = time.time() if now is None else now
        self._store_error = type(error).__name__

    def store_failure(self, now: float | None = None) -> dict[str, Any] | None:
        """``{"failing_for_s", "error_class"}`` once writes have failed ``store_failing_s`` with
        no success since; None otherwise."""
        now = time.time() if now is None else now
        since = self._store_failing_since
        if since is None or now - since < self._store_failing_s:
            return None
        return {"failing_for_s": round(now - since, 1), "error_class": self._store_error}
