"""Where a batch's time goes: wall-clock and CPU seconds per phase of its handling.

The phases, in order: ``decode`` (bytes → events), ``prefetch`` (the batch's reads),
``flows`` (dedupe, stale guard, record state and the flows, event by event), ``flush`` (the
batch's writes), ``commit`` (the store transaction's commit), ``publish`` (the outbox rows
handed to the producer) and ``settle`` (waiting for the batch before to be settled: its outputs
acknowledged by the broker and its offsets committed, which ran while this batch was processed). CPU time is the event loop thread's
own (``time.thread_time``), so the gap between a phase's wall and CPU seconds is waiting: for
the disk, the broker, or a core the machine gave to another process.
"""

from __future__ import annotations

import time
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Iterator

PHASES = ("decode", "prefetch", "flows", "flush", "commit", "publish", "settle")


@dataclass(slots=True)
class PhaseTimes:
    """Seconds per phase, summed over what one batch (or one handled message) did."""

    wall: dict[str, float] = field(default_factory=dict)
    cpu: dict[str, float] = field(default_factory=dict)

    @contextmanager
    def phase(self, name: str) -> Iterator[None]:
        """Time the block as phase ``name``; time already counted for it is added to."""
        wall, cpu = time.perf_counter(), time.thread_time()
        try:
            yield
        finally:
            self.wall[name] = self.wall.get(name, 0.0) + time.perf_counter() - wall
            self.cpu[name] = self.cpu.get(name, 0.0) + time.thread_time() - cpu

    def add(self, other: PhaseTimes) -> None:
        """Add another batch's times to these (a batch taken apart runs as many batches)."""
        for name, seconds in other.wall.items():
            self.wall[name] = self.wall.get(name, 0.0) + seconds
        for name, seconds in other.cpu.items():
            self.cpu[name] = self.cpu.get(name, 0.0) + seconds
