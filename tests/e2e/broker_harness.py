"""The scenario harness of ``tests/pipeline`` with a real broker in the middle.

``feed(*events)`` publishes the events to the real event topics, lets the real bridge
application (in this process, on its real SQLite store) consume them, and returns what it
published in answer — the same shape ``tests.pipeline.harness.Harness.feed`` returns, so the
same scenario tests run in memory and on Kafka.
"""

from __future__ import annotations

import asyncio
from contextlib import AsyncExitStack
from dataclasses import dataclass, field
from typing import Any, AsyncIterator

import pytest
from aiokafka import AIOKafkaConsumer
from sqlalchemy import func, select

from bridge.app import create_bridge
from bridge.pipeline.batch import BatchResult
from bridge.settings import Settings
from bridge.store.engine import create_engine
from bridge.store.schema import counters, outbox
from tests.e2e.kafka_io import produce
from tests.pipeline.harness import Harness

TIMEOUT_S = 60.0


@dataclass
class BrokerHarness:
    settings: Settings
    stack: AsyncExitStack = field(default_factory=AsyncExitStack)

    async def start(self) -> "BrokerHarness":
        bridge = create_bridge(self.settings)
        await bridge.app.start()  # the start-up hooks, the broker, the after-start hooks
        self.stack.push_async_callback(bridge.app.stop)
        self.engine = create_engine(self.settings.store.url, writer=False)
        self.stack.push_async_callback(self.engine.dispose)
        topics = [*self.settings.topics.commands().values(), self.settings.topics.dead_letters]
        self._consumer = AIOKafkaConsumer(
            *topics,
            bootstrap_servers=self.settings.kafka.bootstrap_servers,
            auto_offset_reset="earliest",
            enable_auto_commit=False,
            group_id=None,
        )
        await self._consumer.start()
        self.stack.push_async_callback(self._consumer.stop)
        return self

    async def close(self) -> None:
        await self.stack.aclose()

    commands = staticmethod(Harness.commands)

    async def run(self, *events: dict[str, Any] | bytes) -> list[dict[str, Any]]:
        """Feed events; the commands the bridge published in answer."""
        return self.commands(await self.feed(*events))

    async def outcomes(self, *events: dict[str, Any]) -> tuple[list[dict[str, Any]], BatchResult]:
        result = await self.feed(*events)
        return self.commands(result), result

    async def feed(self, *events: dict[str, Any] | bytes) -> BatchResult:
        before_counts, before_seq = await self._counts(), await self._last_seq()
        await produce(
            self.settings,
            events,
            topic=None if all(isinstance(e, dict) for e in events) else self.settings.topics.csm_events,
        )
        loop = asyncio.get_running_loop()
        deadline = loop.time() + TIMEOUT_S
        while (await self._counts()).get("in", 0) - before_counts.get("in", 0) < len(events):
            assert loop.time() < deadline, "the bridge did not consume the events in time"
            await asyncio.sleep(0.1)
        expected = await self._published_since(before_seq)
        rows = await self._collect(expected, deadline)
        after = await self._counts()
        outcomes = {k: after[k] - before_counts.get(k, 0) for k in after if after[k] != before_counts.get(k, 0)}
        return BatchResult(outbox=rows, outcomes=outcomes)

    async def dead_letters(self) -> list[dict[str, Any]]:
        from bridge.store.schema import dead_letters

        async with self.engine.connect() as conn:
            return [dict(r) for r in (await conn.execute(select(dead_letters))).mappings()]

    async def _counts(self) -> dict[str, int]:
        async with self.engine.connect() as conn:
            rows = await conn.execute(select(counters.c.name, counters.c.value).where(counters.c.name.like("events.%")))
            return {name[len("events.") :]: value for name, value in rows}

    async def _last_seq(self) -> int:
        async with self.engine.connect() as conn:
            return int((await conn.execute(select(func.coalesce(func.max(outbox.c.seq), 0)))).scalar_one())

    async def _published_since(self, seq: int) -> list[str]:
        """Message ids the feed produced (committed with its batch; ``_collect`` waits for
        them on the topics)."""
        async with self.engine.connect() as conn:
            return list(
                (
                    await conn.execute(select(outbox.c.message_id).where(outbox.c.seq > seq).order_by(outbox.c.seq))
                ).scalars()
            )

    async def _collect(self, message_ids: list[str], deadline: float) -> list[dict[str, Any]]:
        """The published messages, as outbox-like rows, in the order the bridge decided them."""
        wanted, found = set(message_ids), {}
        while wanted - found.keys():
            assert asyncio.get_running_loop().time() < deadline, "messages not on the topics"
            for records in (await self._consumer.getmany(timeout_ms=200)).values():
                for record in records:
                    headers = {k: v.decode() for k, v in record.headers}
                    message_id = headers.get("x-bridge-message-id")
                    if message_id in wanted:
                        kind = "dead_letter" if record.topic == self.settings.topics.dead_letters else "command"
                        found[message_id] = {
                            "kind": kind,
                            "payload": record.value,
                            "headers": headers,
                            "topic": record.topic,
                            "key": record.key,
                        }
        return [found[m] for m in message_ids]


@pytest.fixture
async def kafka_harness(bridge_settings: Settings) -> AsyncIterator[BrokerHarness]:
    """The bridge application on a real broker, driven like the in-memory harness."""
    harness = await BrokerHarness(bridge_settings).start()
    try:
        yield harness
    finally:
        await harness.close()
