"""Run bridge lives until the fixed input is fully consumed, with or without faults."""

from __future__ import annotations

import asyncio
import random
import time
from dataclasses import dataclass
from typing import Any

from aiokafka import AIOKafkaConsumer
from aiokafka.admin import AIOKafkaAdminClient
from sqlalchemy import func, select

from bridge.settings import Settings
from bridge.store.engine import create_engine
from bridge.store.schema import outbox
from tests.reliability.fleet import Fleet, Life
from tests.reliability.kafka_tools import partitions_of

#: the three crash points of ``bridge.failpoints``, each with this probability per pass
CRASH_POINTS = ("inside_batch", "after_store_commit", "after_publish")


class Progress:
    """Consumer lag of the event topics and the outbox backlog, sampled on demand."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        bootstrap = settings.kafka.bootstrap_servers
        self._admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap, request_timeout_ms=5000)
        self._consumer = AIOKafkaConsumer(
            bootstrap_servers=bootstrap, group_id=None, enable_auto_commit=False, request_timeout_ms=5000
        )
        self._engine = create_engine(settings.store.url, writer=False)
        self._partitions: list[Any] = []

    async def __aenter__(self) -> "Progress":
        self._partitions = await partitions_of(self.settings, self.settings.topics.events().values())
        await self._admin.start()
        await self._consumer.start()
        return self

    async def __aexit__(self, *_exc: object) -> None:
        await self._consumer.stop()
        await self._admin.close()
        await self._engine.dispose()

    async def lag(self) -> int:
        """End offsets minus the group's committed offsets, over every event partition."""
        committed = await self._admin.list_consumer_group_offsets(
            self.settings.consumer.group_id, partitions=self._partitions
        )
        ends = await self._consumer.end_offsets(self._partitions)
        return sum(end - max(getattr(committed.get(tp), "offset", -1), 0) for tp, end in ends.items())

    async def unsent(self) -> int:
        try:
            async with self._engine.connect() as conn:
                return int(
                    (
                        await conn.execute(select(func.count()).select_from(outbox).where(outbox.c.sent_at.is_(None)))
                    ).scalar_one()
                )
        except Exception:  # noqa: BLE001 - the store may not exist yet, or be down on purpose
            return -1

    async def drained(self) -> bool:
        """Every event committed and every outbox row published."""
        try:
            return await self.lag() == 0 and await self.unsent() == 0
        except Exception:  # noqa: BLE001 - the broker may be down on purpose
            return False

    async def wait_drained(self, timeout_s: float, alive: Life | None = None) -> None:
        deadline = time.monotonic() + timeout_s
        while not await self.drained():
            if alive is not None and not alive.alive:
                raise AssertionError(f"bridge life {alive.number} exited: {alive.log.read_text()[-3000:]}")
            if time.monotonic() > deadline:
                raise AssertionError(
                    f"not drained after {timeout_s} s: lag {await self.lag()}, unsent {await self.unsent()}"
                )
            await asyncio.sleep(0.3)


@dataclass
class CrashPlan:
    """How to crash: failpoint probability per pass, plus a SIGKILL at a random moment."""

    kills_wanted: int
    failpoint_probability: float
    seed: int
    kill_within_s: tuple[float, float] = (0.05, 0.8)

    def failpoints(self) -> str:
        return ",".join(f"{point}={self.failpoint_probability}" for point in CRASH_POINTS)


async def run_with_crashes(fleet: Fleet, progress: Progress, plan: CrashPlan, timeout_s: float) -> Life:
    """Start lives until the input is drained; crash them until ``kills_wanted`` deaths.

    Each life may die at a failpoint; if it has not died ``kill_within_s`` after its first
    batch, it gets a SIGKILL. Once enough lives died, the last one runs without faults.
    Returns the surviving life (still running).
    """
    rng = random.Random(plan.seed)
    deadline = time.monotonic() + timeout_s
    kills = 0
    while time.monotonic() < deadline:
        crashing = kills < plan.kills_wanted
        life = fleet.start(**({"BRIDGE_FAILPOINTS": plan.failpoints()} if crashing else {}))
        kill_at: float | None = None
        while time.monotonic() < deadline:
            if fleet.observe(life):
                assert life.end == "failpoint", f"bridge exited: {life.log.read_text()[-3000:]}"
                life.lag_at_death = await progress.lag()
                kills += 1
                break
            if crashing and kill_at is None and life.batch_times():
                kill_at = time.monotonic() + rng.uniform(*plan.kill_within_s)
            if kill_at is not None and time.monotonic() >= kill_at:
                fleet.kill(life)
                life.lag_at_death = await progress.lag()
                kills += 1
                break
            if await progress.drained():
                return life
            await asyncio.sleep(0.1)
    raise AssertionError(f"input not consumed within {timeout_s} s ({kills} kills)")
