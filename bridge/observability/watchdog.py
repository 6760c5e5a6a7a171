"""Is the event loop turning? A heartbeat on the loop, watched from a thread.

Everything the bridge does runs on one event loop: a synchronous call that never returns (a
driver stuck in C, a deadlock) stops consuming, publishing and the HTTP surface at once. The
loop cannot report that itself, so a heartbeat task stamps the time every ``beat_s`` and a
thread (which runs while the loop is stuck) logs ``loop.blocked`` once the stamp is older than
the limit. ``/health`` asks :meth:`LoopWatchdog.failure`: while blocked the probe times out
(the loop cannot answer it); the first answers once it turns again say how long it was stuck,
for as long as the limit again, so a probe that comes in then sees it too.
"""

from __future__ import annotations

import asyncio
import threading
import time
from dataclasses import dataclass
from typing import Callable

import structlog

log = structlog.get_logger("bridge.watchdog")


@dataclass(frozen=True)
class Block:
    """One time the loop did not turn for longer than the limit."""

    seconds: float
    ended_at: float  # time.monotonic()


class LoopWatchdog:
    def __init__(
        self, limit_s: float, beat_s: float | None = None, *, on_block: Callable[[float], None] | None = None
    ) -> None:
        self.limit_s = limit_s
        self._on_block = on_block
        self.beat_s = beat_s if beat_s is not None else min(1.0, limit_s / 4)
        self.blocks = 0
        self.last_block: Block | None = None
        self._last_beat = time.monotonic()
        self._stopped = threading.Event()
        self._running = False

    async def run(self) -> None:
        """Beat until cancelled, with the watching thread beside."""
        self._last_beat = time.monotonic()
        self._stopped.clear()
        self._running = True
        thread = threading.Thread(target=self._watch, name="bridge-loop-watchdog", daemon=True)
        thread.start()
        try:
            while True:
                await asyncio.sleep(self.beat_s)
                self._beat()
        finally:
            self._running = False
            self._stopped.set()

    def _beat(self) -> None:
        now = time.monotonic()
        late = now - self._last_beat - self.beat_s
        self._last_beat = now
        if late > self.limit_s:
            self.blocks += 1
            self.last_block = Block(late, now)
            if self._on_block is not None:
                self._on_block(late)
            log.warning("loop.unblocked", blocked_s=round(late, 1), limit_s=self.limit_s)

    def _watch(self) -> None:
        reported = False
        while not self._stopped.wait(self.beat_s):
            stuck = self._stuck_for()
            if stuck > self.limit_s and not reported:
                log.error("loop.blocked", blocked_s=round(stuck, 1), limit_s=self.limit_s)
            reported = stuck > self.limit_s

    def _stuck_for(self) -> float:
        return time.monotonic() - self._last_beat - self.beat_s

    def failure(self) -> str | None:
        """Why the loop cannot be trusted to make progress now, or None."""
        stuck = self._stuck_for()
        if self._running and stuck > self.limit_s:
            return f"the event loop has not turned for {stuck:.1f} s (limit {self.limit_s:g} s)"
        block = self.last_block
        if block is not None and time.monotonic() - block.ended_at < self.limit_s:
            return (
                f"the event loop was blocked for {block.seconds:.1f} s (limit "
                f"{self.limit_s:g} s), {time.monotonic() - block.ended_at:.1f} s ago"
            )
        return None
