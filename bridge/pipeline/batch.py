"""Process one batch of raw records in one store transaction.

Per event: decode (bad input → dead letter) → dedupe (event id, and record version) → stale
guard → store the record's new state → run the flows routed to it. Whatever one record makes
fail on its own — the decoder (a contract violation, or any exception at all), the contract
checks at the door (a Kafka key that is not the body's ``sys_id``), a flow rejecting it, any
exception in its flows or its reads — is undone for that record only and the record is
dead-lettered with a reason code; the rest of the batch goes on. Only an outage (the store
locked or down) fails the batch; what fails the batch's shared writes is the runtime's to take
apart (``bridge.pipeline.isolation``).
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
from bridge.pipeline.deadletter import dead_letter_rows, drop_known, known_plan, replay_count_of
from bridge.pipeline.errors import describe_failure, is_transient, raised_at
from bridge.pipeline.outbox import HEADER_PREFIX, command_row
from bridge.pipeline.phases import PhaseTimes
from bridge.pipeline.records import RawRecord
from bridge.pipeline.tracing import EventTracing
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


class KeyMismatch(DecodeError):
    """A valid event under a Kafka key that is not its ``sys_id`` (kept: its dead letter names
    the event and the record)."""

    def __init__(self, event: Event) -> None:
        super().__init__("key_mismatch", "key: expected the record's sys_id, the event topics' message key")
        self.event = event

    def __reduce__(self) -> tuple[type[DecodeError], tuple[str, str]]:
        return (DecodeError, (self.reason_code, self.detail))  # the event stays behind


@dataclass(slots=True)
class BatchResult:
    """What one batch did; ``outbox`` rows are to be published after the commit."""

    outbox: list[dict[str, Any]] = field(default_factory=list)
    outcomes: dict[str, int] = field(default_factory=dict)
    events: list[tuple[Event | None, str]] = field(default_factory=list)
    phases: PhaseTimes = field(default_factory=PhaseTimes)


class BatchProcessor:
    """Turns raw records into store changes and outbox rows, in one transaction per batch."""

    def __init__(
        self,
        store: BatchStore,
        topics: TopicNames,
        router: Router,
        mappings: Callable[[], MappingSet],
        hooks: Sequence[ChangeHook] = (),
        tracing: EventTracing | None = None,
    ) -> None:
        self._store = store
        self._tracing = tracing
        self._topics = topics
        self._router = router
        self._mappings = mappings
        self._hooks = tuple(hooks)
        self._source_of_topic = {t: s for s, t in topics.events().items()}
        self._command_topics = topics.commands()

    async def process(
        self,
        raws: Sequence[RawRecord],
        *,
        dry_run: bool = False,
        reprocess_salt: str | None = None,
        published: Sequence[str] = (),
    ) -> BatchResult:
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
        traced = self._tracing.batch(raws) if self._tracing is not None else None
        try:
            with phases.phase("prefetch"):
                transaction = await self._store.begin()
        except BaseException as error:
            if traced is not None:
                traced.fail(error)
            raise
        try:
            state = BatchState(transaction, now, reprocess_salt=reprocess_salt)
            with phases.phase("prefetch"):
                await state.prefetch(
                    [e.sys_id for e in events],
                    *_referenced_ids(events),
                    correlation_ids=[_correlation_id(e) for e in events],
                    versions=[_version(e) for e in events],
                )
            with phases.phase("flows"):
                for index, (raw, item) in enumerate(decoded):
                    span = traced.start_record(index) if traced is not None else None
                    written = len(state.writes.outbox)
                    if isinstance(item, DecodeError):
                        self._dead_letter(
                            state,
                            raw,
                            "decode",
                            item.reason_code,
                            item,
                            item.detail,
                            mappings.version,
                            event=item.event if isinstance(item, KeyMismatch) else None,
                        )
                        outcome = "dead_lettered"
                    elif isinstance(item, Event):
                        outcome = await self._apply_guarded(state, raw, item, mappings)
                    else:  # the decoder itself failed on this record (a bug)
                        self._dead_letter_internal(state, raw, "decode", item, mappings.version, None)
                        outcome = "dead_lettered"
                    state.count("events.in")
                    state.count(f"events.{outcome}")
                    events_seen.append((item if isinstance(item, Event) else None, outcome))
                    if span is not None and traced is not None:
                        traced.end_record(span, outcome, state.writes.outbox[written:])
            if state.writes.dead_letters:
                with phases.phase("flush"):
                    drop_known(state.writes, await transaction.run(known_plan(state.writes)))
            failpoint("inside_batch")
            state.writes.published.extend(published)
            with phases.phase("flush"):  # the writes and the commit: one hand-off on SQLite
                if dry_run:
                    await transaction.run(flush_plan(state, self._hooks))
                    await transaction.rollback()
                else:
                    await transaction.commit(flush_plan(state, self._hooks))
            phases.split("commit", "flush", *transaction.commit_seconds)
        except BaseException as error:
            if traced is not None:
                traced.fail(error)
            await transaction.rollback()
            raise
        result = _result(state, events_seen, phases)
        if traced is not None:
            traced.end(result.outcomes)
        return result

    async def dead_letter_alone(self, raw: RawRecord, error: BaseException, *, dry_run: bool = False) -> BatchResult:
        """Dead-letter a record that fails every batch it is in, in a transaction of its own
        (rolled back when ``dry_run``). A record already processed is left alone: its effects
        stand, a failure after its commit is the outbox relay's to retry, and the result is
        empty.

        Nothing here can fail for the record's sake: the decoder returns what it makes of the
        record, whatever happens in it, and should reading what the record names fail (not
        an outage), the record's bytes are dead-lettered without it."""
        decoded = self._decode(raw)
        event = decoded if isinstance(decoded, Event) else None
        try:
            return await self._dead_letter_alone(raw, error, event, dry_run)
        except Exception as failure:  # noqa: BLE001 - sorted out below
            if is_transient(failure) or event is None:
                raise
            log.error(
                "record.dead_letter_failed",
                error_class=type(failure).__name__,
                raised_at=raised_at(failure),
                **raw.position(),
            )
        return await self._dead_letter_alone(raw, error, None, dry_run)

    async def _dead_letter_alone(
        self, raw: RawRecord, error: BaseException, event: Event | None, dry_run: bool
    ) -> BatchResult:
        mappings = self._mappings()
        traced = self._tracing.batch([raw]) if self._tracing is not None else None
        transaction = await self._store.begin()
        try:
            state = BatchState(transaction, datetime.now(timezone.utc))
            if event is not None:
                await state.prefetch((), versions=[_version(event)])
                if state.already_processed(_version(event)):
                    await transaction.rollback()
                    if traced is not None:
                        traced.end({"already_processed": 1})
                    return BatchResult()
            span = traced.start_record(0) if traced is not None else None
            self._dead_letter_internal(state, raw, "batch", error, mappings.version, event)
            if span is not None and traced is not None:
                traced.end_record(span, "dead_lettered", state.writes.outbox)
            state.count("events.in")
            state.count("events.dead_lettered")
            drop_known(state.writes, await transaction.run(known_plan(state.writes)))
            if dry_run:
                await transaction.run(flush_plan(state))
                await transaction.rollback()
            else:
                await transaction.commit(flush_plan(state))
        except BaseException as failure:
            if traced is not None:
                traced.fail(failure)
            await transaction.rollback()
            raise
        if traced is not None:
            traced.end({"dead_lettered": 1})
        return _result(state, [(event, "dead_lettered")])

    def _store_cpu(self) -> float:
        """CPU seconds the store spent in a thread of its own (SQLite's connection thread)."""
        return self._store.thread_cpu_s

    def _decode(self, raw: RawRecord) -> Event | DecodeError | Exception:
        """The record's event; the contract rule it breaks; or what the decoder raised on it (a
        bug: never out of the batch). Never raises."""
        try:
            event = decode_event(raw.value, topic_source=self._source_of_topic.get(raw.topic))
        except DecodeError as error:
            # Kept until the batch ends: without its traceback it holds no frame, so the
            # batch's objects are freed by reference counting, not by the cycle collector.
            return error.with_traceback(None)
        except Exception as error:  # noqa: BLE001 - whatever it is, it costs this record only
            log.error(
                "decode.internal_error",
                error_class=type(error).__name__,
                raised_at=raised_at(error),
                **raw.position(),
            )
            return error.with_traceback(None)
        key = raw.key
        if key is not None and key != event.sys_id.encode():
            # The contract keys events by record sys_id, and per-record order rests on it: a
            # record under another key may overtake, or be overtaken by, its own changes.
            return KeyMismatch(event)
        return event

    async def _apply_guarded(self, state: BatchState, raw: RawRecord, event: Event, mappings: MappingSet) -> str:
        """``_apply``, and whatever escapes it (a read, the dedupe, writing the commands) undone
        for this event and dead-lettered: only an outage fails the batch."""
        point = state.savepoint()
        try:
            return await self._apply(state, raw, event, mappings)
        except Exception as error:  # noqa: BLE001 - a bug must cost one event, not the stream
            if is_transient(error):
                raise
            state.rollback(point)
            log.error(
                "event.internal_error",
                error_class=type(error).__name__,
                raised_at=raised_at(error),
                event_id=event.event_id,
                table=event.table,
            )
            self._dead_letter_internal(state, raw, "flow", error, mappings.version, event)
            return "dead_lettered"

    async def _apply(self, state: BatchState, raw: RawRecord, event: Event, mappings: MappingSet) -> str:
        if state.already_processed(_version(event)) and state.reprocess_salt is None:
            return "duplicate"  # nothing recorded: the first copy's row stands
        stored = await state.record(event.sys_id)
        ctx = FlowContext(event, state, mappings, previous=stored)
        point = state.savepoint()
        try:
            if _is_stale(event, stored):
                ctx.filtered(
                    "stale", f"sys_mod_count {event.sys_mod_count} <= {stored.sys_mod_count if stored else '-'}"
                )
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
            self._dead_letter(
                state,
                raw,
                "flow" if isinstance(error, FlowDataError) else "map",
                reason,
                error,
                str(error),
                mappings.version,
                event=event,
            )
            ctx.outcome, ctx.detail = "dead_lettered", reason
        except Exception as error:  # noqa: BLE001 - a bug must cost one event, not the stream
            if is_transient(error):
                raise  # says nothing about the event: the whole batch is retried
            state.rollback(point)
            log.error(
                "flow.internal_error",
                error_class=type(error).__name__,
                raised_at=raised_at(error),
                event_id=event.event_id,
                table=event.table,
            )
            ctx.outcome = "dead_lettered"
            ctx.detail = self._dead_letter_internal(state, raw, "flow", error, mappings.version, event)
        if ctx.outcome == "dead_lettered":
            # Not recorded as processed: a fixed and re-injected copy must run (`dlq retry`);
            # a redelivered copy finds its dead letter already there (same input position).
            return ctx.outcome
        for decided in ctx.decided:
            self._write_command(state, event, decided, mappings)
        state.mark_processed(
            {
                "event_id": event.event_id,
                "source": event.source,
                "table_name": event.table,
                "sys_id": event.sys_id,
                "sys_mod_count": event.sys_mod_count,
                "operation": event.operation,
                "action": event.action or "",
                "press_id": press_id(event),
                "outcome": ctx.outcome,
                "detail": ctx.detail,
                "mapping_version": mappings.version,
                "topic": raw.topic,
                "partition": raw.partition,
                "offset": raw.offset,
                "processed_at": state.now,
            }
        )
        return ctx.outcome

    def _write_command(self, state: BatchState, event: Event, decided: Decided, mappings: MappingSet) -> None:
        """The outbox row of a command a flow decided on (published after the commit)."""
        command, rule = decided.command, decided.rule
        headers = {
            HEADER_PREFIX + "mapping-version": mappings.version,
            HEADER_PREFIX + "mapping-hash": mappings.content_hash,
            HEADER_PREFIX + "cause-event": event.event_id,
            HEADER_PREFIX + "rule": rule,
            "content-type": "application/json",
        }
        state.writes.outbox.append(
            command_row(
                command=command,
                topic=self._command_topics[command.target],
                headers=headers,
                cause_event_id=event.event_id,
                cause_sys_id=event.sys_id,
                rule=rule,
                mapping_version=mappings.version,
                now=state.now,
            )
        )
        state.count(f"commands.{command.target}.{command.table}.{command.operation}")

    def _dead_letter_internal(
        self,
        state: BatchState,
        raw: RawRecord,
        stage: str,
        error: BaseException,
        mapping_version: str | None,
        event: Event | None,
    ) -> str:
        """Dead-letter an event an unexpected exception (a bug, or writes the store refuses)
        failed; its reason code."""
        reason, detail = describe_failure(error)
        self._dead_letter(state, raw, stage, reason, error, detail, mapping_version, event=event)
        return reason

    def _dead_letter(
        self,
        state: BatchState,
        raw: RawRecord,
        stage: str,
        reason: str,
        error: BaseException,
        detail: str,
        mapping_version: str | None,
        event: Event | None = None,
    ) -> None:
        entry, row = dead_letter_rows(
            raw,
            stage=stage,
            reason_code=reason,
            error=error,
            detail=detail,
            dlq_topic=self._topics.dead_letters,
            mapping_version=mapping_version,
            now=state.now,
            event_id=event.event_id if event else None,
            sys_id=event.sys_id if event else None,
            replay_count=replay_count_of(raw),
        )
        state.writes.dead_letters.append(entry)
        state.writes.outbox.append(row)


def _result(state: BatchState, events: list[tuple[Event | None, str]], phases: PhaseTimes | None = None) -> BatchResult:
    """What a finished transaction emits and counts."""
    return BatchResult(
        events=events,
        outbox=state.writes.outbox,
        outcomes={k[7:]: v for k, v in state.writes.counters.items() if k.startswith("events.")},
        phases=phases or PhaseTimes(),
    )


def _version(event: Event) -> DedupeKey:
    """The dedupe key: a republished copy (new event id, new offset) of a change has the same;
    each press of an action has its own (see ``press_id``)."""
    return (event.sys_id, event.sys_mod_count, event.operation, event.action or "", press_id(event))


def _is_stale(event: Event, stored: StoredRecord | None) -> bool:
    """An insert/update/delete not newer than what we applied. Actions are requests, never stale."""
    return event.operation in VERSIONED and stored is not None and event.sys_mod_count <= stored.sys_mod_count


def _store(state: BatchState, event: Event, stored: StoredRecord | None) -> None:
    if event.operation == "action" and stored is not None and event.sys_mod_count <= stored.sys_mod_count:
        return  # the action came with an older copy of the record: keep the newer one
    state.put_record(
        StoredRecord(
            event.sys_id,
            event.source,
            event.table,
            event.sys_mod_count,
            event.record_dict(),
            deleted=event.operation == "delete",
        ),
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
