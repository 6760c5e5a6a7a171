"""Where a batch's time goes: wall-clock and CPU seconds per phase of its handling.

The phases, in order: ``decode`` (bytes → events), ``prefetch`` (the batch's reads),
``flows`` (dedupe, stale guard, record state and the flows, event by event), ``flush`` (the
batch's writes), ``commit`` (the store transaction's commit), ``publish`` (the outbox rows
handed to the producer) and ``settle`` (waiting for the batch before to be settled: its outputs
acknowledged by the broker and its offsets committed, which ran while this batch was processed).
CPU time is the event loop thread's own (``time.thread_time``), plus the CPU the store spent
meanwhile in a thread of its own (SQLite's connection thread), so the gap between a phase's wall
and CPU seconds is waiting: for the disk, the broker, or a core the machine gave to another
process.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Callable

PHASES = ("decode", "prefetch", "flows", "flush", "commit", "publish", "settle")


@dataclass(slots=True)
class PhaseTimes:
    """Seconds per phase, summed over what one batch (or one handled message) did."""

    #: CPU seconds spent so far by work handed to other threads (counted in the phases too)
    other_cpu: Callable[[], float] | None = None
    wall: dict[str, float] = field(default_factory=dict)
    cpu: dict[str, float] = field(default_factory=dict)

    def phase(self, name: str) -> _Timer:
        """Time the block as phase ``name``; time already counted for it is added to."""
        return _Timer(self, name)

    def split(self, part: str, of: str, wall: float, cpu: float) -> None:
        """Count ``wall``/``cpu`` seconds already counted in phase ``of`` as phase ``part``
        instead (work timed where it ran, inside a bigger step)."""
        wall, cpu = min(wall, self.wall.get(of, 0.0)), min(cpu, self.cpu.get(of, 0.0))
        self.wall[of] = self.wall.get(of, 0.0) - wall
        self.cpu[of] = self.cpu.get(of, 0.0) - cpu
        self.wall[part] = self.wall.get(part, 0.0) + wall
        self.cpu[part] = self.cpu.get(part, 0.0) + cpu

    def add(self, other: PhaseTimes) -> None:
        """Add another batch's times to these (a batch taken apart runs as many batches)."""
        for name, seconds in other.wall.items():
            self.wall[name] = self.wall.get(name, 0.0) + seconds
        for name, seconds in other.cpu.items():
            self.cpu[name] = self.cpu.get(name, 0.0) + seconds


class _Timer:
    """``with times.phase(name):`` (a class, not a generator: a batch times a dozen blocks)."""

    __slots__ = ("_times", "_name", "_wall", "_cpu", "_other")

    def __init__(self, times: PhaseTimes, name: str) -> None:
        self._times, self._name = times, name

    def __enter__(self) -> None:
        other_cpu = self._times.other_cpu
        self._other = other_cpu() if other_cpu is not None else 0.0
        self._wall, self._cpu = time.perf_counter(), time.thread_time()

    def __exit__(self, *_exc: object) -> None:
        times, name = self._times, self._name
        times.wall[name] = times.wall.get(name, 0.0) + time.perf_counter() - self._wall
        cpu = time.thread_time() - self._cpu
        if times.other_cpu is not None:
            cpu += times.other_cpu() - self._other
        times.cpu[name] = times.cpu.get(name, 0.0) + cpu
