"""``bridge replay``: run past events through the current mappings, with the bridge's own rules.

The topic is read with a consumer of its own (no group, nothing committed), from an offset or a
time, up to a time or to the end offsets seen at the start. Batches go through a processor built
like the bridge's (:func:`bridge.pipeline.factory.build_processor`), so dedupe holds: events already
applied change nothing unless the operator forces a reprocess, with a reason — the reason and
the time salt the command ids, so that the target systems see new commands.

A dry run rolls every batch back and emits nothing. Each batch is its own transaction, so in a
dry run a batch does not see what the batches before it would have written.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any, Callable, Mapping

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient

from bridge.kafka.admin import known_message_size_limits
from bridge.kafka.clients import aiokafka_client_kwargs
from bridge.mapping import load_mapping_set
from bridge.observability.lag import topic_partitions
from bridge.ops.timespec import as_ms
from bridge.pipeline.batch import BatchProcessor, BatchResult
from bridge.pipeline.errors import is_transient
from bridge.pipeline.factory import build_processor
from bridge.pipeline.isolation import each_alone
from bridge.pipeline.outbox import OutboxRelay
from bridge.pipeline.records import RawRecord
from bridge.settings import Settings
from bridge.store.batch_store import open_batch_store

BATCH_SIZE = 500
IDLE_POLLS_MAX = 30  # polls of one second that returned nothing while records were due


class ReplayError(ValueError):
    """The request cannot be served (unknown topic or partition, bad range), or the store or
    the broker went away while it ran."""


@dataclass(frozen=True)
class ReplayRequest:
    topic: str
    from_offset: int | None = None
    since: datetime | None = None
    until: datetime | None = None
    partition: int | None = None
    key: str | None = None
    execute: bool = False
    reprocess_reason: str | None = None


@dataclass
class ReplaySummary:
    dry_run: bool
    read: int = 0
    outcomes: dict[str, int] = field(default_factory=dict)
    commands: list[dict[str, Any]] = field(default_factory=list)
    dead_letters: int = 0
    emitted: int = 0
    ranges: list[dict[str, int]] = field(default_factory=list)

    def add(self, result: BatchResult, size: int) -> None:
        self.read += size
        for outcome, n in result.outcomes.items():
            if outcome != "in":
                self.outcomes[outcome] = self.outcomes.get(outcome, 0) + n
        for row in result.outbox:
            if row["kind"] == "dead_letter":
                self.dead_letters += 1
            else:
                self.commands.append(
                    {
                        k: row.get(k)
                        for k in (
                            "message_id",
                            "target",
                            "target_table",
                            "target_sys_id",
                            "rule",
                            "cause_event_id",
                            "mapping_version",
                        )
                    }
                )

    def as_dict(self) -> dict[str, Any]:
        return {
            "dry_run": self.dry_run,
            "read": self.read,
            "applied": self.outcomes.get("applied", 0),
            "skipped_duplicate": self.outcomes.get("duplicate", 0),
            "dead_lettered": self.outcomes.get("dead_lettered", 0),
            "outcomes": dict(sorted(self.outcomes.items())),
            "commands": len(self.commands),
            "emitted": self.emitted,
            "ranges": self.ranges,
            "command_list": self.commands,
        }


Progress = Callable[[int, int], None]  # (records done, records in range)


async def replay(settings: Settings, request: ReplayRequest, progress: Progress | None = None) -> ReplaySummary:
    """Replay ``request``; ``progress`` is told how far along the range the reading is."""
    if request.reprocess_reason is not None and not request.reprocess_reason.strip():
        raise ReplayError("--force-reprocess needs a non-empty --reason")
    mapping_set = load_mapping_set(settings.mappings_dir)
    salt = (
        f"{request.reprocess_reason.strip()}@{datetime.now(timezone.utc).isoformat()}"
        if request.reprocess_reason
        else None
    )
    summary = ReplaySummary(dry_run=not request.execute)
    store = open_batch_store(settings.store)
    consumer = AIOKafkaConsumer(
        **aiokafka_client_kwargs(settings.kafka),
        group_id=None,
        enable_auto_commit=False,
        isolation_level="read_committed",
    )
    producer = None
    try:
        await _opened(store.open())
        await consumer.start()
        ranges = await _ranges(settings, consumer, request)
        summary.ranges = [{"partition": tp.partition, "start": a, "end": b} for tp, (a, b) in sorted(ranges.items())]
        processor = build_processor(store, settings, lambda: mapping_set)
        relay = None
        if request.execute:
            producer = AIOKafkaProducer(**aiokafka_client_kwargs(settings.kafka), enable_idempotence=True, acks="all")
            await producer.start()
            relay = OutboxRelay(
                store,
                _sender(producer),
                await known_message_size_limits(
                    settings, [settings.topics.dead_letters, *settings.topics.commands().values()]
                ),
            )
        async for raws, done, total in _read(consumer, ranges, request):
            for part, result in await _process(processor, raws, not request.execute, salt):
                if relay is not None:
                    summary.emitted += len(await relay.publish(result.outbox))
                summary.add(result, len(part))
            if progress is not None:
                progress(done, total)
    finally:
        await consumer.stop()
        if producer is not None:
            await producer.stop()
        await store.close()
    return summary


async def _process(
    processor: BatchProcessor, raws: list[RawRecord], dry_run: bool, salt: str | None
) -> list[tuple[list[RawRecord], BatchResult]]:
    """One batch, as the bridge runs it: when it fails for something other than an outage (a
    record the store refuses, a bug one record triggers), its records one at a time, and a
    record that fails alone is dead-lettered (stage ``batch``; rolled back in a dry run), so
    that one record cannot stop a replay either."""
    if not raws:
        return []
    try:
        return [(raws, await processor.process(raws, dry_run=dry_run, reprocess_salt=salt))]
    except Exception as error:  # noqa: BLE001 - sorted out below
        _unless_transient(error)

    async def run(part: list[RawRecord]) -> BatchResult:
        return await processor.process(part, dry_run=dry_run, reprocess_salt=salt)

    async def dead_letter(raw: RawRecord, error: Exception) -> BatchResult:
        return await processor.dead_letter_alone(raw, error, dry_run=dry_run)

    try:
        parts = await each_alone(raws, run, dead_letter)
    except Exception as error:  # noqa: BLE001 - an outage: the clear error
        _unless_transient(error)
        raise
    return [([raw], result) for raw, result in parts]


async def _opened(opening: Any) -> None:
    """Open the store; an outage (locked, down) stops the replay with the clear error."""
    try:
        await opening
    except Exception as error:  # noqa: BLE001 - sorted out here
        _unless_transient(error)
        raise


def _unless_transient(error: Exception) -> None:
    if is_transient(error):
        raise ReplayError(
            f"stopped by {type(error).__name__}: the store or the broker is "
            "unavailable. What was replayed stands: run the same command again "
            "(the events already applied are skipped)."
        ) from None


def _sender(producer: AIOKafkaProducer) -> Any:
    async def send(topic: str, key: bytes, value: bytes, headers: Mapping[str, str]) -> Any:
        return await producer.send(topic, value, key=key, headers=[(k, v.encode()) for k, v in headers.items()])

    return send


async def _ranges(
    settings: Settings, consumer: AIOKafkaConsumer, request: ReplayRequest
) -> dict[TopicPartition, tuple[int, int]]:
    """[start, end) per partition; end is the end offset now, or the first offset after --until."""
    partitions = await _partitions(settings, request.topic)
    if request.partition is not None:
        if request.partition not in partitions:
            raise ReplayError(f"topic {request.topic!r} has no partition {request.partition}")
        partitions = [request.partition]
    tps = [TopicPartition(request.topic, p) for p in partitions]
    firsts = await consumer.beginning_offsets(tps)
    ends = await consumer.end_offsets(tps)
    starts = (
        {tp: max(request.from_offset, firsts[tp]) for tp in tps}
        if request.from_offset is not None
        else await _at(consumer, tps, request.since, ends)
    )
    stops = await _at(consumer, tps, request.until, ends) if request.until else ends
    return {tp: (min(starts[tp], ends[tp]), min(stops[tp], ends[tp])) for tp in tps}


async def _at(
    consumer: AIOKafkaConsumer, tps: list[TopicPartition], moment: datetime | None, ends: Mapping[TopicPartition, int]
) -> dict[TopicPartition, int]:
    """The first offset at or after ``moment`` per partition (the end offset if none is)."""
    if moment is None:
        return dict(ends)
    found = await consumer.offsets_for_times({tp: as_ms(moment) for tp in tps})
    return {tp: found[tp].offset if found.get(tp) is not None else ends[tp] for tp in tps}


async def _partitions(settings: Settings, topic: str) -> list[int]:
    admin = AIOKafkaAdminClient(**aiokafka_client_kwargs(settings.kafka))
    await admin.start()
    try:
        found = await topic_partitions(admin, [topic])
    finally:
        await admin.close()
    if topic not in found:
        raise ReplayError(f"no topic {topic!r} on the cluster")
    return found[topic]


async def _read(
    consumer: AIOKafkaConsumer, ranges: dict[TopicPartition, tuple[int, int]], request: ReplayRequest
) -> Any:
    """Yield (records to process, records read so far, records in range) batch by batch."""
    pending = {tp: r for tp, r in ranges.items() if r[0] < r[1]}
    total = sum(b - a for a, b in pending.values())
    done = 0
    if not pending:
        yield [], 0, 0
        return
    consumer.assign(list(pending))
    for tp, (start, _end) in pending.items():
        consumer.seek(tp, start)
    key = request.key.encode() if request.key else None
    idle_polls = 0
    while pending:
        fetched = await consumer.getmany(*pending, timeout_ms=1000, max_records=BATCH_SIZE)
        idle_polls = 0 if fetched else idle_polls + 1
        if idle_polls > IDLE_POLLS_MAX:
            raise ReplayError("the broker returned no records for the range; try again")
        raws: list[RawRecord] = []
        for tp, records in fetched.items():
            end = pending[tp][1]
            for record in records:
                if record.offset >= end:
                    break
                done += 1
                if key is None or record.key == key:
                    raws.append(RawRecord.from_consumer_record(record))
        for tp in list(pending):  # position, not the last record: control records take offsets
            if await consumer.position(tp) >= pending[tp][1]:
                del pending[tp]
                consumer.pause(tp)
        yield raws, done, total
