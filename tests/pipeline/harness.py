"""Drive the real batch processor on a real SQLite store with the shipped mappings."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from bridge.mapping import load_mapping_set
from bridge.pipeline.batch import BatchResult
from bridge.pipeline.factory import build_processor
from bridge.pipeline.records import RawRecord
from bridge.settings import Settings, TopicNames
from bridge.store.schema import dead_letters
from tests.fixtures.events import encode
from tests.fixtures.store import batch_store_of

MAPPINGS = Path(__file__).resolve().parents[2] / "mappings"


@dataclass
class Harness:
    engine: AsyncEngine
    topics: TopicNames = field(default_factory=TopicNames)
    offset: int = 0
    mappings: Any = None

    def __post_init__(self) -> None:
        self.mappings = self.mappings or load_mapping_set(MAPPINGS)
        # Exactly as the bridge builds it: the batch store of the engine's database, every
        # flow and the visibility hook.
        self.store = batch_store_of(self.engine)
        self.processor = build_processor(
            self.store, Settings(_env_file=None, topics=self.topics), lambda: self.mappings
        )

    def raw(self, event: dict[str, Any] | bytes, topic: str | None = None) -> RawRecord:
        self.offset += 1
        if isinstance(event, dict):
            topic = topic or self.topics.events()[event["source"]]
            return RawRecord(topic, 0, self.offset, event["sys_id"].encode(), encode(event))
        return RawRecord(topic or self.topics.csm_events, 0, self.offset, None, event)

    async def feed(self, *events: dict[str, Any] | bytes) -> BatchResult:
        await self.store.open()
        return await self.processor.process([self.raw(e) for e in events])

    async def run(self, *events: dict[str, Any] | bytes) -> list[dict[str, Any]]:
        """Feed events as one batch; the commands it produced."""
        return self.commands(await self.feed(*events))

    async def outcomes(self, *events: dict[str, Any]) -> tuple[list[dict[str, Any]], BatchResult]:
        result = await self.feed(*events)
        return self.commands(result), result

    @staticmethod
    def commands(result: BatchResult) -> list[dict[str, Any]]:
        return [json.loads(r["payload"]) for r in result.outbox if r["kind"] == "command"]

    async def dead_letters(self) -> list[dict[str, Any]]:
        async with self.engine.connect() as conn:
            return [dict(r) for r in (await conn.execute(select(dead_letters))).mappings()]
