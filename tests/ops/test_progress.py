"""When a partition counts as stalled, and when the store counts as not writable (the rules
behind /ready's `partitions` and `store_writes`; the real bridge shows them in test_probes)."""

from __future__ import annotations

import sqlite3

from bridge.observability.lag import PartitionLag
from bridge.observability.progress import ProgressTracker, is_store_error
from bridge.settings import ProbeSettings

T = "csm.events"


def _lag(partition: int, committed: int | None, end: int) -> PartitionLag:
    return PartitionLag(T, partition, committed, start_offset=0, end_offset=end)


def test_a_partition_with_lag_that_does_not_move_stalls_after_the_limit_and_recovers() -> None:
    tracker = ProgressTracker(ProbeSettings(stall_after_s=10))
    assert tracker.observe([_lag(0, 5, 9), _lag(1, None, 3)], None, now=100) == []
    assert tracker.observe([_lag(0, 5, 9), _lag(1, None, 3)], None, now=109) == []
    stalls = tracker.observe([_lag(0, 5, 12), _lag(1, None, 3)], None, now=110)
    assert [(s.partition, s.lag, s.committed) for s in stalls] == [(0, 7, 5), (1, 3, None)]
    assert stalls[0].as_json(115)["stalled_for_s"] == 15
    # partition 0 moves: it starts over; partition 1 stays stalled
    assert [s.partition for s in tracker.observe([_lag(0, 6, 12), _lag(1, None, 3)], None, now=111)] == [1]
    # partition 1 caught up (no lag): not stalled; partition 0 held still since it moved
    assert [s.partition for s in tracker.observe([_lag(0, 6, 12), _lag(1, 3, 3)], None, now=125)] == [0]


def test_no_lag_is_never_a_stall_and_other_instances_partitions_are_theirs() -> None:
    tracker = ProgressTracker(ProbeSettings(stall_after_s=1))
    tracker.observe([_lag(0, 9, 9), _lag(1, 2, 5)], {(T, 0)}, now=0)
    assert tracker.observe([_lag(0, 9, 9), _lag(1, 2, 5)], {(T, 0)}, now=50) == []
    assert [s.partition for s in tracker.observe([_lag(0, 9, 9), _lag(1, 2, 5)], {(T, 1)}, now=51)] == [1]
    assert tracker.observe([_lag(0, 9, 9), _lag(1, 2, 5)], set(), now=52) == []  # holds none


def test_the_store_is_not_writable_once_writes_failed_for_the_limit_without_success() -> None:
    tracker = ProgressTracker(ProbeSettings(store_failing_s=30))
    locked = sqlite3.OperationalError("database is locked")
    tracker.store_failed(locked, now=0)
    assert tracker.store_failure(now=29) is None
    tracker.store_failed(locked, now=29)  # still the first failure that counts
    assert tracker.store_failure(now=31) == {"failing_for_s": 31, "error_class": "OperationalError"}
    tracker.store_written()
    assert tracker.store_failure(now=100) is None
    assert is_store_error(locked) and not is_store_error(ValueError("x"))
