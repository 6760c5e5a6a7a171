"""CPU time and memory of one process, read from ``/proc`` (Linux), sampled while it runs."""

from __future__ import annotations

import os
import statistics
import time
from dataclasses import dataclass, field

_TICKS = os.sysconf("SC_CLK_TCK")


def cpu_seconds(pid: int) -> float:
    """User + system CPU time the process has used so far."""
    with open(f"/proc/{pid}/stat", encoding="ascii") as stat:
        # the command name (field 2) may hold spaces: split after its closing parenthesis
        fields = stat.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / _TICKS


def machine_busy_seconds() -> float:
    """CPU seconds every core of the machine has spent busy so far (``/proc/stat``: all but
    idle and I/O wait), summed over cores."""
    with open("/proc/stat", encoding="ascii") as stat:
        fields = [int(v) for v in stat.readline().split()[1:]]
    return (sum(fields[:8]) - fields[3] - fields[4]) / _TICKS  # guest time is inside user


def memory_kib(pid: int) -> tuple[int, int]:
    """(resident set size, its high-water mark) in KiB."""
    rss = peak = 0
    with open(f"/proc/{pid}/status", encoding="ascii") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                rss = int(line.split()[1])
            elif line.startswith("VmHWM:"):
                peak = int(line.split()[1])
    return rss, peak


@dataclass
class Sample:
    at: float  # time.monotonic()
    cpu_s: float
    rss_kib: int


@dataclass
class ProcessProbe:
    """Samples one process; ``window(a, b)`` gives the CPU it used between two instants."""

    pid: int
    samples: list[Sample] = field(default_factory=list)
    peak_kib: int = 0

    def sample(self) -> Sample | None:
        try:
            cpu = cpu_seconds(self.pid)
            rss, peak = memory_kib(self.pid)
        except (FileNotFoundError, ProcessLookupError, IndexError, ValueError):
            return None  # the process is gone (or a zombie without counters)
        taken = Sample(time.monotonic(), cpu, rss)
        self.samples.append(taken)
        self.peak_kib = max(self.peak_kib, peak)
        return taken

    def cpu_between(self, start: float, end: float) -> float:
        """CPU seconds between the samples nearest to ``start`` and ``end``."""
        first = min(self.samples, key=lambda s: abs(s.at - start))
        last = min(self.samples, key=lambda s: abs(s.at - end))
        return max(0.0, last.cpu_s - first.cpu_s)

    def steady_rss_mib(self, start: float, end: float) -> float:
        """Median RSS over the second half of [start, end] (after warm-up), in MiB."""
        middle = start + (end - start) / 2
        values = [s.rss_kib for s in self.samples if middle <= s.at <= end] or [s.rss_kib for s in self.samples[-3:]]
        return statistics.median(values) / 1024 if values else 0.0

    @property
    def peak_rss_mib(self) -> float:
        return self.peak_kib / 1024
