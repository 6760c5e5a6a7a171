"""The simulated systems on a real Kafka broker: publish their events, answer the bridge's commands.

Publishing sends a batch of messages without awaiting each one, then awaits the batch (the
producer is idempotent and keys every message by record sys_id). Commands are read with a
consumer group from the three command topics, answered, and their offsets committed per batch.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import time
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import Any

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer

from bridge.kafka.clients import aiokafka_client_kwargs
from bridge.settings import KafkaSettings, Settings, TopicNames
from bridgedev.simulate.messages import SimMessage
from bridgedev.simulate.recording import CommandRecorder
from bridgedev.simulate.responders import Responders
from bridgedev.simulate.workload import Mix, Workload, population_messages
from bridgedev.simulate.world import SimWorld


class Simulator:
    """CSM, FSM and ITSM connected to Kafka for one seed; use as ``async with Simulator(...)``."""

    def __init__(
        self,
        settings: Settings | None = None,
        *,
        seed: int = 1,
        bootstrap_servers: str | None = None,
        topics: TopicNames | None = None,
        recorder: CommandRecorder | None = None,
        group_id: str = "bridge-simulator",
    ) -> None:
        settings = settings or Settings()
        kafka = (
            settings.kafka
            if bootstrap_servers is None
            else settings.kafka.model_copy(update={"bootstrap_servers": bootstrap_servers})
        )
        self.topics = topics or settings.topics
        self.world = SimWorld(seed)
        self.recorder = recorder if recorder is not None else CommandRecorder()
        self.responders = Responders(self.world, self.recorder)
        self.sent: Counter[str] = Counter()  # by message kind
        self._kafka: KafkaSettings = kafka
        self._group_id = group_id
        self._producer: AIOKafkaProducer | None = None
        self._consumer: AIOKafkaConsumer | None = None
        self._answering: asyncio.Task[None] | None = None
        self._systems = {topic: system for system, topic in self.topics.commands().items()}

    async def __aenter__(self) -> Simulator:
        await self.start()
        return self

    async def __aexit__(
        self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None
    ) -> None:
        await self.stop()

    async def start(self) -> None:
        """Connect, and start answering commands in the background."""
        kwargs = aiokafka_client_kwargs(self._kafka)
        kwargs["client_id"] = f"{self._kafka.client_id}-simulator"
        self._producer = AIOKafkaProducer(**kwargs, enable_idempotence=True, linger_ms=5, max_batch_size=256 * 1024)
        await self._producer.start()
        self._consumer = AIOKafkaConsumer(
            *self._systems,
            **kwargs,
            group_id=self._group_id,
            auto_offset_reset="earliest",
            enable_auto_commit=False,
        )
        await self._consumer.start()
        self._answering = asyncio.create_task(self._answer_commands(), name="simulator-answers")

    async def stop(self) -> None:
        """Stop answering and disconnect; re-raises an error the answering task met."""
        task, self._answering = self._answering, None
        try:
            if task is not None:
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task
        finally:
            for client in (self._consumer, self._producer):
                if client is not None:
                    await client.stop()
            self._consumer = self._producer = None
            self.recorder.close()

    async def publish(self, messages: Sequence[SimMessage]) -> int:
        """Send messages to their systems' events topics; returns how many were sent."""
        assert self._producer is not None, "start() the simulator first"
        events_topics = self.topics.events()
        pending = [await self._producer.send(events_topics[m.source], m.value, key=m.key) for m in messages]
        if pending:
            await asyncio.gather(*pending)
        for message in messages:
            self.sent[_family(message.kind)] += 1
        return len(pending)

    async def _answer_commands(self) -> None:
        assert self._consumer is not None
        while True:
            batches = await self._consumer.getmany(timeout_ms=200, max_records=500)
            answers: list[SimMessage] = []
            for partition, records in batches.items():
                system = self._systems[partition.topic]
                for record in records:
                    answers.extend(self.responders.handle(system, record.value or b""))
            if answers:
                await self.publish(answers)
            if batches:
                await self._consumer.commit()


#: Messages per send batch (sent without awaiting each, then awaited together).
_BATCH = 1000


def _family(kind: str) -> str:
    """``population:wm_order`` → ``population``; ``case_update`` stays as it is."""
    return kind.split(":", 1)[0]


@dataclass
class RunOptions:
    """What ``run_simulation`` does: which population, how many changes, how fast."""

    seed: int = 1
    size: str = "small"
    mix: Mix | str = "standard"
    rate: float | None = None  # messages per second; None = as fast as the broker takes them
    count: int | None = None  # workload messages after the population (None: until duration)
    duration: float | None = None  # seconds of workload (None: until count)
    population: bool = True  # publish the population's inserts first (else only build them)
    linger: float = 2.0  # keep answering commands this long after the last message
    record_path: Path | None = None  # JSONL copy of every command received
    group_id: str = "bridge-simulator"


@dataclass
class RunSummary:
    """What a run sent (by kind family) and what the systems received from the bridge."""

    seed: int
    sent: dict[str, int]  # by kind family: population, case_update, …, duplicate, malformed, answer
    commands: dict[str, Any]  # the recorder's summary
    elapsed_s: float
    records: int = 0  # records the simulated systems hold at the end

    def to_dict(self) -> dict[str, Any]:
        return {
            "seed": self.seed,
            "sent": self.sent,
            "sent_total": sum(self.sent.values()),
            "duplicates": {
                "sent": self.sent.get("duplicate", 0),
                "commands_received": self.commands["outcomes"].get("duplicate", 0),
            },
            "commands": self.commands,
            "records": self.records,
            "elapsed_s": round(self.elapsed_s, 3),
        }


async def run_simulation(
    options: RunOptions,
    settings: Settings | None = None,
    *,
    bootstrap_servers: str | None = None,
    topics: TopicNames | None = None,
    progress: Callable[[int], None] | None = None,
) -> RunSummary:
    """Publish the population and the workload at the chosen rate, answering commands meanwhile."""
    if options.count is None and options.duration is None:
        raise ValueError("give a count or a duration")
    recorder = CommandRecorder(options.record_path, keep=False)
    simulator = Simulator(
        settings,
        seed=options.seed,
        bootstrap_servers=bootstrap_servers,
        topics=topics,
        recorder=recorder,
        group_id=options.group_id,
    )
    started = time.monotonic()
    async with simulator:
        world = simulator.world
        population = population_messages(world, options.size)
        if options.population:
            await _paced(simulator, population, None, None, progress)
        else:  # the bridge has it from an earlier run with this seed: build it, publish nothing
            for _ in population:
                pass
        workload = Workload(world, options.mix).messages(options.count)
        deadline = None if options.duration is None else time.monotonic() + options.duration
        await _paced(simulator, workload, options.rate, deadline, progress)
        await asyncio.sleep(options.linger)
    return RunSummary(
        options.seed,
        dict(sorted(simulator.sent.items())),
        recorder.summary(),
        time.monotonic() - started,
        len(simulator.world.store),
    )


async def _paced(
    simulator: Simulator,
    messages: Iterator[SimMessage],
    rate: float | None,
    deadline: float | None,
    progress: Callable[[int], None] | None,
) -> None:
    """Send in batches: as fast as possible, or each message at its scheduled time (start + i/rate)."""
    start, sent = time.monotonic(), 0
    while deadline is None or time.monotonic() < deadline:
        if rate is None:
            due = _BATCH
        else:  # everything scheduled up to now (at least one), at most one batch
            due = max(1, min(_BATCH, int((time.monotonic() - start) * rate) + 1 - sent))
        batch = list(itertools.islice(messages, due))
        if not batch:
            return
        sent += await simulator.publish(batch)
        if progress is not None:
            progress(len(batch))
        if rate is not None:
            await asyncio.sleep(max(0.0, start + sent / rate - time.monotonic()))
