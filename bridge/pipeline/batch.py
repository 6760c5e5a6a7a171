"""Process one batch of raw records in one store transaction.

Per event: decode (bad input → dead letter) → dedupe (event id, and record version) → stale
guard → store the record's new state → run the flows routed to it. A flow that rejects an event,
or raises an unexpected exception on it, is undone for that event only and the event is
dead-lettered; the rest of the batch goes on.
Everything is flushed in bulk at the end; the caller publishes the returned outbox rows after
the commit and only then commits the Kafka offsets.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any, Callable, Iterable, Sequence

import structlog

from bridge.failpoints import failpoint
from bridge.flows import Router
from bridge.flows.context import Decided, FlowContext, press_id
from bridge.flows.errors import FlowDataError
from bridge.flows.links import FOLLOWED_REFERENCES
from bridge.mapping import MappingError, MappingSet
from bridge.pipeline.deadletter import dead_letter_rows, replay_count_of
from bridge.pipeline.errors import describe_failure, is_transient, raised_at
from bridge.pipeline.outbox import HEADER_PREFIX, command_row
from bridge.pipeline.phases import PhaseTimes
from bridge.pipeline.records import RawRecord
from bridge.settings import TopicNames
from bridge.store.batch_store import BatchStore
from bridge.store.flush import ChangeHook, flush_plan
from bridge.store.unit_of_work import BatchState, DedupeKey, StoredRecord
from connectors.catalog import TABLES
from connectors.common import DecodeError, Event, decode_event
from connectors.common.values import sys_id_of

log = structlog.get_logger("bridge.pipeline")

#: operations whose event carries a new version of the record (an action does not change it)
VERSIONED = ("insert", "update", "delete")


@dataclass(slots=True)
class BatchResult:
    """What one batch did; ``outbox`` rows are to be published after the commit."""

    outbox: list[dict[str, Any]] = field(default_factory=list)
    outcomes: dict[str, int] = field(default_factory=dict)
    events: list[tuple[Event | None, str]] = field(default_factory=list)
    phases: PhaseTimes = field(default_factory=PhaseTimes)


class BatchProcessor:
    """Turns raw records into store changes and outbox rows, in one transaction per batch."""

    def __init__(self, store: BatchStore, topics: TopicNames, router: Router,
                 mappings: Callable[[], MappingSet], hooks: Sequence[ChangeHook] = ()) -> None:
        self._store = store
        self._topics = topics
        self._router = router
        self._mappings = mappings
        self._hooks = tuple(hooks)
        self._source_of_topic = {t: s for s, t in topics.events().items()}
        self._command_topics = topics.commands()

    async def process(self, raws: Sequence[RawRecord], *, dry_run: bool = False,
                      reprocess_salt: str | None = None,
                      published: Sequence[str] = ()) -> BatchResult:
        """Apply one batch in one transaction.

        ``dry_run`` rolls the transaction back: the result shows what would be emitted.
        ``reprocess_salt`` processes events again although already applied (an operator's
        forced replay); the salt goes into the command ids so the systems see new commands.
        ``published``: outbox rows published since their batch committed, marked sent in this
        transaction (saves the marks a transaction of their own).
        """
        mappings = self._mappings()  # one mapping set for the whole batch, even across a reload
        now = datetime.now(timezone.utc)
        phases = PhaseTimes(self._store_cpu)
        with phases.phase("decode"):
            decoded = [(raw, self._decode(raw)) for raw in raws]
        events_seen: list[tuple[Event | None, str]] = []
        events = [e for _, e in decoded if isinstance(e, Event)]
        with phases.phase("prefetch"):
            transaction = await self._store.begin()
        try:
            state = BatchState(transaction, now, reprocess_salt=reprocess_salt)
            with phases.phase("prefetch"):
                await state.prefetch(
                    [e.sys_id for e in events], *_referenced_ids(events),
                    correlation_ids=[_correlation_id(e) for e in events],
                    versions=[_version(e) for e in events],
                )
            with phases.phase("flows"):
                for raw, item in decoded:
                    if isinstance(item, DecodeError):
                        self._dead_letter(state, raw, "decode", item.reason_code, item,
                                          item.detail, mappings.version)
                        outcome = "dead_lettered"
                    else:
                        outcome = await self._apply(state, raw, item, mappings)
                    state.count("events.in")
                    state.count(f"events.{outcome}")
                    events_seen.append((item if isinstance(item, Event) else None, outcome))
            failpoint("inside_batch")
            state.writes.published.extend(published)
            with phases.phase("flush"):  # the writes and the commit: one hand-off on SQLite
                if dry_run:
                    await transaction.run(flush_plan(state, self._hooks))
                    await transaction.rollback()
                else:
                    await transaction.commit(flush_plan(state, self._hooks))
            phases.split("commit", "flush", *transaction.commit_seconds)
        except BaseException:
            await transaction.rollback()
            raise
        return _result(state, events_seen, phases)

    async def dead_letter_alone(self, raw: RawRecord, error: BaseException, *,
                                dry_run: bool = False) -> BatchResult:
        """Dead-letter a record that fails every batch it is in, in a transaction of its own
        (rolled back when ``dry_run``). A record already processed is left alone: its effects
        stand, a failure after its commit is the outbox relay's to retry, and the result is
        empty."""
        decoded = self._decode(raw)
        event = decoded if isinstance(decoded, Event) else None
        mappings = self._mappings()
        transaction = await self._store.begin()
        try:
            state = BatchState(transaction, datetime.now(timezone.utc))
            if event is not None:
                await state.prefetch((), versions=[_version(event)])
                if state.already_processed(_version(event)):
                    await transaction.rollback()
                    return BatchResult()
            self._dead_letter_internal(state, raw, "batch", error, mappings.version, event)
            state.count("events.in")
            state.count("events.dead_lettered")
            if dry_run:
                await transaction.run(flush_plan(state))
                await transaction.rollback()
            else:
                await transaction.commit(flush_plan(state))
        except BaseException:
            await transaction.rollback()
            raise
        return _result(state, [(event, "dead_lettered")])

    def _store_cpu(self) -> float:
        """CPU seconds the store spent in a thread of its own (SQLite's connection thread)."""
        return self._store.thread_cpu_s

    def _decode(self, raw: RawRecord) -> Event | DecodeError:
        try:
            return decode_event(raw.value or b"", topic_source=self._source_of_topic.get(raw.topic))
        except DecodeError as error:
            # Kept until the batch ends: without its traceback it holds no frame, so the
            # batch's objects are freed by reference counting, not by the cycle collector.
            return error.with_traceback(None)

    async def _apply(self, state: BatchState, raw: RawRecord, event: Event,
                     mappings: MappingSet) -> str:
        if state.already_processed(_version(event)) and state.reprocess_salt is None:
            return "duplicate"  # nothing recorded: the first copy's row stands
        stored = await state.record(event.sys_id)
        ctx = FlowContext(event, state, mappings, previous=stored)
        point = state.savepoint()
        try:
            if _is_stale(event, stored):
                ctx.filtered("stale", f"sys_mod_count {event.sys_mod_count} <= "
                                      f"{stored.sys_mod_count if stored else '-'}")
            else:
                _store(state, event, stored)
                ctx.current = await state.record(event.sys_id)
                for handler in self._router.handlers_for(event):
                    await handler(ctx)
                if ctx.outcome == "applied" and ctx.is_echo:
                    ctx.filtered("echo", "caused by command " + str(event.caused_by_command))
        except (FlowDataError, MappingError) as error:
            state.rollback(point)
            reason = getattr(error, "reason_code", "mapping_error")
            self._dead_letter(state, raw, "flow" if isinstance(error, FlowDataError) else "map",
                              reason, error, str(error), mappings.version, event=event)
            ctx.outcome, ctx.detail = "dead_lettered", reason
        except Exception as error:  # noqa: BLE001 - a bug must cost one event, not the stream
            if is_transient(error):
                raise  # says nothing about the event: the whole batch is retried
            state.rollback(point)
            log.error("flow.internal_error", error_class=type(error).__name__,
                      raised_at=raised_at(error), event_id=event.event_id, table=event.table)
            ctx.outcome = "dead_lettered"
            ctx.detail = self._dead_letter_internal(state, raw, "flow", error, mappings.version,
                                                    event)
        if ctx.outcome == "dead_lettered":
            # Not recorded as processed: a fixed and re-injected copy must run (`dlq retry`);
            # a redelivered copy finds its dead letter already there (same input position).
            return ctx.outcome
        for decided in ctx.decided:
            self._write_command(state, event, decided, mappings)
        state.mark_processed({
            "event_id": event.event_id, "source": event.source, "table_name": event.table,
            "sys_id": event.sys_id, "sys_mod_count": event.sys_mod_count,
            "operation": event.operation, "action": event.action or "",
            "press_id": press_id(event), "outcome": ctx.outcome,
            "detail": ctx.detail, "mapping_version": mappings.version, "topic": raw.topic,
            "partition": raw.partition, "offset": raw.offset, "processed_at": state.now,
        })
        return ctx.outcome

    def _write_command(self, state: BatchState, event: Event, decided: Decided,
                       mappings: MappingSet) -> None:
        """The outbox row of a command a flow decided on (published after the commit)."""
        command, rule = decided.command, decided.rule
        headers = {
            HEADER_PREFIX + "mapping-version": mappings.version,
            HEADER_PREFIX + "mapping-hash": mappings.content_hash,
            HEADER_PREFIX + "cause-event": event.event_id,
            HEADER_PREFIX + "rule": rule,
            "content-type": "application/json",
        }
        state.writes.outbox.append(command_row(
            command=command, topic=self._command_topics[command.target], headers=headers,
            cause_event_id=event.event_id, cause_sys_id=event.sys_id, rule=rule,
            mapping_version=mappings.version, now=state.now,
        ))
        state.count(f"commands.{command.target}.{command.table}.{command.operation}")

    def _dead_letter_internal(self, state: BatchState, raw: RawRecord, stage: str,
                              error: BaseException, mapping_version: str | None,
                              event: Event | None) -> str:
        """Dead-letter an event an unexpected exception (a bug, or writes the store refuses)
        failed; its reason code."""
        reason, detail = describe_failure(error)
        self._dead_letter(state, raw, stage, reason, error, detail, mapping_version, event=event)
        return reason

    def _dead_letter(self, state: BatchState, raw: RawRecord, stage: str, reason: str,
                     error: BaseException, detail: str, mapping_version: str | None,
                     event: Event | None = None) -> None:
        entry, row = dead_letter_rows(
            raw, stage=stage, reason_code=reason, error=error, detail=detail,
            dlq_topic=self._topics.dead_letters, mapping_version=mapping_version, now=state.now,
            event_id=event.event_id if event else None, sys_id=event.sys_id if event else None,
            replay_count=replay_count_of(raw),
        )
        state.writes.dead_letters.append(entry)
        state.writes.outbox.append(row)


def _result(state: BatchState, events: list[tuple[Event | None, str]],
            phases: PhaseTimes | None = None) -> BatchResult:
    """What a finished transaction emits and counts."""
    return BatchResult(events=events, outbox=state.writes.outbox,
                       outcomes={k[7:]: v for k, v in state.writes.counters.items()
                                 if k.startswith("events.")},
                       phases=phases or PhaseTimes())


def _version(event: Event) -> DedupeKey:
    """The dedupe key: a republished copy (new event id, new offset) of a change has the same;
    each press of an action has its own (see ``press_id``)."""
    return (event.sys_id, event.sys_mod_count, event.operation, event.action or "",
            press_id(event))


def _is_stale(event: Event, stored: StoredRecord | None) -> bool:
    """An insert/update/delete not newer than what we applied. Actions are requests, never stale."""
    return (event.operation in VERSIONED and stored is not None
            and event.sys_mod_count <= stored.sys_mod_count)


def _store(state: BatchState, event: Event, stored: StoredRecord | None) -> None:
    if event.operation == "action" and stored is not None and \
            event.sys_mod_count <= stored.sys_mod_count:
        return  # the action came with an older copy of the record: keep the newer one
    state.put_record(
        StoredRecord(event.sys_id, event.source, event.table, event.sys_mod_count,
                     event.record_dict(), deleted=event.operation == "delete"),
        "update" if event.operation == "action" else event.operation,
    )


def _correlation_id(event: Event) -> str:
    value = event.record_dict().get("correlation_id")
    return value if isinstance(value, str) else ""


def _referenced_ids(events: Iterable[Event]) -> tuple[set[str], set[str]]:
    """The sys_ids the batch's events' records reference: all of them (their records are read),
    and those of the references the flows follow (their links are read too)."""
    referenced: set[str] = set()
    followed: set[str] = set()
    for event in events:
        record = event.record_dict()
        for name in TABLES[event.table].references:
            target = sys_id_of(record.get(name))
            if target:
                referenced.add(target)
                if name in FOLLOWED_REFERENCES:
                    followed.add(target)
    return referenced, followed
