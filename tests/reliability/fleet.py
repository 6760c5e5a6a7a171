"""Bridge processes for fault tests: start, SIGKILL, SIGTERM, and read what each one logged.

Every start is a new *life* with its own log file (JSON lines), so the test can tell when a
life processed its first batch (recovery) and what it logged (canaries, errors).
"""

from __future__ import annotations

import asyncio
import json
import signal
import subprocess
import time
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from tests.e2e.kafka_io import start_bridge


@dataclass
class Life:
    """One run of the bridge process."""

    number: int
    process: subprocess.Popen[bytes]
    log: Path
    started: float = field(default_factory=time.time)
    ended: float | None = None
    end: str = "running"  # running | failpoint | sigkill | sigterm | exited
    #: events not committed when it died by SIGKILL (read after the death, when no one commits)
    lag_at_death: int | None = None

    def lines(self) -> list[dict[str, Any]]:
        """The JSON log lines so far (other lines, e.g. from libraries, are skipped)."""
        found = []
        for line in self.log.read_text(errors="replace").splitlines():
            if line.startswith("{"):
                try:
                    found.append(json.loads(line))
                except ValueError:
                    continue
        return found

    def batch_times(self) -> list[float]:
        """Wall-clock times of the batches this life completed."""
        return [
            datetime.fromisoformat(line["timestamp"]).timestamp()
            for line in self.lines()
            if line.get("event") == "batch.done"
        ]

    @property
    def alive(self) -> bool:
        return self.process.poll() is None


class Fleet:
    """Starts bridge processes with a common environment and keeps track of every life."""

    def __init__(self, env: dict[str, str], workdir: Path) -> None:
        # DEBUG: the lives' logs carry a line per batch (``batch.done``), which they are read for
        self.env = {"BRIDGE_LOG_LEVEL": "DEBUG", **env}
        self.workdir = workdir
        self.lives: list[Life] = []

    def start(self, **extra_env: str) -> Life:
        number = len(self.lives) + 1
        log = self.workdir / f"bridge-{number:03d}.log"
        log.touch()
        process = start_bridge({**self.env, **extra_env}, log_path=str(log))
        life = Life(number, process, log)
        self.lives.append(life)
        return life

    def observe(self, life: Life) -> bool:
        """Record the end of a life that died by itself (a failpoint's SIGKILL); True if dead."""
        code = life.process.poll()
        if code is None:
            return False
        if life.ended is None:
            life.ended = time.time()
            life.end = "failpoint" if code == -signal.SIGKILL else "exited"
        return True

    def kill(self, life: Life) -> None:
        if self.observe(life):
            return
        life.process.send_signal(signal.SIGKILL)
        life.process.wait(timeout=10)
        life.ended, life.end = time.time(), "sigkill"

    async def terminate(self, life: Life, timeout_s: float = 40) -> float:
        """SIGTERM and wait for the exit; returns the seconds it took."""
        if self.observe(life):
            return 0.0
        began = time.monotonic()
        life.process.send_signal(signal.SIGTERM)
        deadline = began + timeout_s
        while life.process.poll() is None and time.monotonic() < deadline:
            await asyncio.sleep(0.05)
        if life.process.poll() is None:
            self.kill(life)
            raise AssertionError(f"bridge did not exit within {timeout_s} s of SIGTERM")
        life.ended, life.end = time.time(), "sigterm"
        return time.monotonic() - began

    async def wait_for_batch(self, life: Life, timeout_s: float = 60) -> bool:
        """Wait until ``life`` completed a batch (True) or died (False)."""
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if life.batch_times():
                return True
            if self.observe(life):
                return bool(life.batch_times())
            await asyncio.sleep(0.1)
        raise AssertionError(f"life {life.number} processed no batch in {timeout_s} s")

    def recovery_times(self) -> list[float]:
        """Per abnormal end: seconds from that death to the next batch any later life completed."""
        times = []
        for i, life in enumerate(self.lives):
            if life.end not in ("failpoint", "sigkill") or life.ended is None:
                continue
            later = [t for other in self.lives[i + 1 :] for t in other.batch_times() if t >= life.ended]
            if later:
                times.append(min(later) - life.ended)
        return times

    async def stop_all(self) -> None:
        for life in self.lives:
            if life.alive:
                try:
                    await self.terminate(life)
                except AssertionError:
                    pass

    def log_text(self) -> str:
        return "".join(life.log.read_text(errors="replace") for life in self.lives)


def percentile(values: list[float], q: float) -> float:
    if not values:
        return 0.0
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]
