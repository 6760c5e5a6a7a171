"""Retention: what only history needs is deleted once it is older than its window.

Pruned, each on a window of its own (``RetentionSettings``):

* ``processed_events`` — dedupe keys of changes (inserts, updates, deletes) and, separately,
  of actions;
* ``sent_commands`` / ``pending_inserts`` — outbox rows of commands already published (an
  insert with a correlation id on a longer window: see below);
* ``dead_letters`` — dead letters already retried, with their published outbox row;
* ``routing_log`` — the note-routing decisions (``links`` of kind ``note_routing``).

Never pruned: an outbox row not yet sent (pending, or one the broker refused: it stays unsent),
a dead letter not retried (``new``, or ``quarantined``: input that never got through, removed
only by an operator's ``bridge dlq purge``), and ``records`` and the other ``links``: they are
the bridge's state, and ``records`` is what makes pruning dedupe keys safe.

Why pruning a dedupe key is safe
--------------------------------
A change's key is ``(sys_id, sys_mod_count, operation)``. Processing a change stores the record
at that version or a newer one (the upsert never lowers ``records.sys_mod_count``), and
``records`` is never pruned. So a copy of a change whose key was pruned — a redelivery, a
replay from the topic, a republished copy — finds the stored version ≥ its own and is dropped
as ``stale`` by the stale guard before any flow runs (its outcome says ``stale`` instead of
``duplicate``; its effects are the same: none). This holds for every table: the guard compares
versions of the event's own record, whatever its table, and is checked before the flows.

An action is not covered: it carries the record's current ``sys_mod_count``, changes nothing,
and is never stale (two presses on an unchanged record are two requests; its key adds the press,
the event's id). A pressed button whose key was pruned would run again if the same press came
back. A press can only come back while its event is still in the topic (a redelivery, or
``bridge replay`` from the topic): so action keys have a window of their own,
``action_keys_days``, which must be longer than the event topics' ``retention.ms``.

What else a window bounds
-------------------------
* An insert command's outbox row is how the target system's insert event (carrying the
  command's correlation id) finds the case that asked for it: ``pending_inserts_days`` must be
  longer than a target may take to answer. Other sent commands are history (``bridge
  inspect``) and the unique command id that makes a re-emitted command a no-op; a command is
  only re-emitted by the event that caused it, whose own key outlives the command's row or
  which is stale by then (see above).
* A dead letter's id is its input position: a redelivery of that position after its retried
  entry was pruned makes a new entry (it shows up again in ``bridge dlq list``, nothing is
  applied). Its outbox row (``dlq-<id>``) holds the original key ``dlq retry`` re-injects with,
  so it goes with its dead letter, never before.
* The routing log feeds ``bridge explain`` and, for a child that joins a major case later, the
  major case's earlier notes (``routing.late_children_get_earlier_notes``): a child gets those
  of the last ``routing_log_days`` only.

How it runs
-----------
In small steps: each step deletes at most ``step_rows`` rows of one target, oldest first, found
through an index on its age (on SQLite, ``processed_events`` is read in rowid order instead:
see :func:`_scan_plan`), in a transaction of its own on the batch path's store (on SQLite its
one connection thread, between two batches; on PostgreSQL a pooled connection, the rows locked
with ``SKIP LOCKED`` so that two instances pruning never wait for each other). A target is done
when a step finds no more. Inside the bridge
(:func:`pruning_loop`) a pass starts every ``interval_s`` and pauses ``step_pause_ms``
between steps; ``bridge db prune --execute`` runs one pass.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Any

import structlog
from sqlalchemy import (
    ColumnElement,
    Integer,
    Table,
    TextClause,
    and_,
    bindparam,
    delete,
    exists,
    func,
    literal,
    literal_column,
    select,
    text,
)
from sqlalchemy.ext.compiler import compiles

from bridge.settings import RetentionSettings
from bridge.store.batch_store import BatchStore
from bridge.store.plan import Execute, Fetch, Plan
from bridge.store.schema import ROUTING_LOG_WHERE, dead_letters, links, outbox, processed_events
from bridge.store.sql import POSTGRESQL, SQLITE, Statement, id_list

log = structlog.get_logger("bridge.retention")

DAY = timedelta(days=1)


def _cutoff(column: Any) -> Any:
    return bindparam("cutoff", type_=column.type)


@dataclass(frozen=True)
class Target:
    """One kind of row retention prunes: where it lives, which of its rows count, by what age."""

    name: str
    table: Table
    age: Any  # the column the age is read from (indexed)
    #: the window's setting in ``RetentionSettings``
    setting: str
    #: the rows that may go, ``age < :cutoff`` aside (per dialect)
    condition: Callable[[str], ColumnElement[bool] | TextClause]
    #: the order a step takes them in: its index's (oldest first within it)
    order: tuple[Any, ...] = ()
    #: the index SQLite must use (``INDEXED BY``): without statistics its planner prefers any
    #: equality on a primary key's prefix to a range on the right index
    sqlite_index: str | None = None
    #: on SQLite, found by a scan in rowid order instead (see ``_scan_plan``): no index to keep
    sqlite_by_rowid: bool = False

    def window(self, settings: RetentionSettings) -> timedelta:
        return float(getattr(settings, self.setting)) * DAY

    def where(self, dialect: str) -> ColumnElement[bool]:
        return and_(self.age < _cutoff(self.age), self.condition(dialect))


def _sent_dead_letter_only(_dialect: str) -> ColumnElement[bool]:
    """A retried dead letter whose outbox row (``dlq-<id>``) is sent or gone."""
    unsent = exists().where(outbox.c.message_id == literal("dlq-") + dead_letters.c.id, outbox.c.sent_at.is_(None))
    return and_(dead_letters.c.status == "retried", ~unsent)


def _correlated(dialect: str, yes: bool) -> ColumnElement[bool]:
    """A sent command with (or without) a correlation id. On SQLite through coalesce(): not a
    condition the correlation id's index could serve (its planner, without statistics, would
    choose it over the age's and read every uncorrelated row); PostgreSQL estimates IS NULL
    from its statistics, and a coalesce() not at all."""
    if dialect == SQLITE:
        value = func.coalesce(outbox.c.correlation_id, "")
        return value != "" if yes else value == ""
    return outbox.c.correlation_id.is_not(None) if yes else outbox.c.correlation_id.is_(None)


_PROCESSED_ORDER = (processed_events.c.action, processed_events.c.processed_at)
TARGETS: tuple[Target, ...] = (
    Target(
        "processed_events",
        processed_events,
        processed_events.c.processed_at,
        "processed_events_days",
        lambda d: processed_events.c.action == "",
        _PROCESSED_ORDER,
        sqlite_by_rowid=True,
    ),
    # ``> ''`` rather than ``!= ''``: a range of the index, not a scan of it
    Target(
        "action_keys",
        processed_events,
        processed_events.c.processed_at,
        "action_keys_days",
        lambda d: processed_events.c.action > "",
        _PROCESSED_ORDER,
        sqlite_by_rowid=True,
    ),
    Target(
        "sent_commands",
        outbox,
        outbox.c.sent_at,
        "sent_commands_days",
        lambda d: and_(outbox.c.kind == "command", _correlated(d, False)),
    ),
    Target(
        "pending_inserts",
        outbox,
        outbox.c.sent_at,
        "pending_inserts_days",
        lambda d: and_(outbox.c.kind == "command", _correlated(d, True)),
    ),
    Target("dead_letters", dead_letters, dead_letters.c.created_at, "dead_letters_days", _sent_dead_letter_only),
    # The literal kind (not a parameter): only then does the partial index serve the query.
    Target(
        "routing_log",
        links,
        links.c.created_at,
        "routing_log_days",
        lambda d: text(ROUTING_LOG_WHERE),
        sqlite_index="ix_links_routing_age",
    ),
)
BY_NAME = {target.name: target for target in TARGETS}


class _ArrayOf(ColumnElement[Any]):
    """PostgreSQL's ``ARRAY(subquery)``: the subquery runs once, before the statement."""

    inherit_cache = False  # compiled once per dialect by ``Statement``, never cached

    def __init__(self, query: Any) -> None:
        self.query = query


@compiles(_ArrayOf, "postgresql")
def _array_of(element: _ArrayOf, compiler: Any, **kw: Any) -> str:
    return f"ARRAY({compiler.process(element.query, **kw)})"


def _key(table: Table, dialect: str, *, qualified: bool = True) -> list[Any]:
    """How a step names the rows it chose: SQLite's rowid, PostgreSQL's ``ctid`` (the row's
    place, stable while the step holds its lock). ``ctid = ANY(ARRAY(…))`` is a TID scan of
    just those rows; ``IN (subquery)`` let the planner hash-join the whole table."""
    if dialect == SQLITE:
        return [literal_column(f"{table.name}.rowid" if qualified else "rowid")]
    return [literal_column(f"{table.name}.ctid" if qualified else "ctid")]


def _chosen(target: Target, dialect: str, *columns: Any) -> Any:
    """The oldest ``:limit`` rows of ``target`` past the cutoff (locked, skipping rows another
    instance holds, on PostgreSQL)."""
    limit = bindparam("limit", type_=Integer)
    if dialect == SQLITE and target.sqlite_index:
        # FROM as text, to name the index; its columns unqualified (they would add the table)
        age: ColumnElement[Any] = literal_column(target.age.name)
        return (
            select(*columns)
            .select_from(text(f"{target.table.name} INDEXED BY {target.sqlite_index}"))
            .where(age < _cutoff(target.age), target.condition(dialect))
            .order_by(age)
            .limit(limit)
        )
    query = (
        select(*columns)
        .select_from(target.table)
        .where(target.where(dialect))
        .order_by(*(target.order or (target.age,)))
        .limit(limit)
    )
    return query.with_for_update(skip_locked=True) if dialect == POSTGRESQL else query


def _delete_step(target: Target) -> Callable[[str], Any]:
    def build(dialect: str) -> Any:
        key = _key(target.table, dialect)[0]
        chosen = _chosen(target, dialect, *_key(target.table, dialect, qualified=not target.sqlite_index))
        match = key == func.any(_ArrayOf(chosen)) if dialect == POSTGRESQL else key.in_(chosen)
        return delete(target.table).where(match).returning(literal_column("1"))

    return build


def _count(target: Target) -> Callable[[str], Any]:
    return lambda dialect: select(func.count()).select_from(target.table).where(target.where(dialect))


def _total(target: Target) -> Callable[[str], Any]:
    return lambda dialect: select(func.count()).select_from(target.table)


STEPS = {t.name: Statement(f"prune_{t.name}", _delete_step(t)) for t in TARGETS if t.name != "dead_letters"}
COUNTS = {t.name: Statement(f"prunable_{t.name}", _count(t)) for t in TARGETS}
TOTALS = {t.table.name: Statement(f"rows_{t.table.name}", _total(t)) for t in TARGETS}

# Dead letters go with their outbox row: choose the ids, then delete both.
DEAD_LETTERS_CHOSEN = Statement(
    "prune_dead_letters_chosen", lambda d: _chosen(BY_NAME["dead_letters"], d, dead_letters.c.id)
)
DEAD_LETTERS_OUTBOX_DELETE = Statement(
    "prune_dead_letters_outbox",
    lambda d: delete(outbox).where(outbox.c.message_id.in_(id_list("ids", d)), outbox.c.sent_at.is_not(None)),
    "ids",
)
DEAD_LETTERS_DELETE = Statement(
    "prune_dead_letters", lambda d: delete(dead_letters).where(dead_letters.c.id.in_(id_list("ids", d))), "ids"
)


# SQLite, ``processed_events``: the next rows in rowid order, each with whether it is past the
# cutoff and whether it is the target's; then the chosen ones by rowid.
_ROWID: ColumnElement[Any] = literal_column("rowid")


def _scan(target: Target) -> Callable[[str], Any]:
    return lambda dialect: (
        select(
            _ROWID,
            (target.age < _cutoff(target.age)).label("old"),
            target.condition(dialect).label("ours"),
        )
        .select_from(target.table)
        .where(_ROWID > bindparam("after", type_=Integer))
        .order_by(_ROWID)
        .limit(bindparam("limit", type_=Integer))
    )


def _rowid_delete(table: Table) -> Callable[[str], Any]:
    return lambda dialect: delete(table).where(_ROWID.in_(id_list("ids", dialect, Integer)))


SCANS = {t.name: Statement(f"prune_scan_{t.name}", _scan(t)) for t in TARGETS if t.sqlite_by_rowid}
ROWID_DELETES = {
    t.table.name: Statement(f"prune_rowids_{t.table.name}", _rowid_delete(t.table), "ids")
    for t in TARGETS
    if t.sqlite_by_rowid
}


@dataclass(frozen=True, slots=True)
class Step:
    """What one step did: rows deleted, and where the next step starts (None: done)."""

    deleted: int
    resume: int | None


def _step_plan(target: Target, dialect: str, cutoff: datetime, limit: int, after: int) -> Plan[Step]:
    params = {"cutoff": cutoff, "limit": limit}
    if target.sqlite_by_rowid and dialect == SQLITE:
        return (yield from _scan_plan(target, cutoff, limit, after))
    if target.name != "dead_letters":
        deleted = len((yield Fetch(STEPS[target.name], params)))
        return Step(deleted, after if deleted == limit else None)
    ids = [row[0] for row in (yield Fetch(DEAD_LETTERS_CHOSEN, params))]
    if ids:
        yield Execute(DEAD_LETTERS_OUTBOX_DELETE, {"ids": ["dlq-" + i for i in ids]})
        yield Execute(DEAD_LETTERS_DELETE, {"ids": ids})
    return Step(len(ids), after if len(ids) == limit else None)


def _scan_plan(target: Target, cutoff: datetime, limit: int, after: int) -> Plan[Step]:
    """SQLite keeps ``processed_events`` without an index on its age: one more B-tree insert
    per event cost the batch path about a tenth of its CPU (``bench/results/retention.md``).
    Its rowids are given in insertion order (the largest plus one), and its one writer stamps
    rows in time order: so the oldest rows come first in rowid order, and a pass reads the
    table from its start, ``limit`` rows a step, up to the first row inside the window. What
    it reads besides the rows it deletes is the other target's rows (presses, kept longer)."""
    rows = yield Fetch(SCANS[target.name], {"cutoff": cutoff, "limit": limit, "after": after})
    chosen = []
    resume: int | None = None
    for rowid, old, ours in rows:
        if not old:
            break  # the first row inside the window: the rest are newer
        if ours:
            chosen.append(rowid)
    else:
        resume = rows[-1][0] if len(rows) == limit else None
    if chosen:
        yield Execute(ROWID_DELETES[target.table.name], {"ids": chosen})
    return Step(len(chosen), resume)


def cutoffs(settings: RetentionSettings, now: datetime) -> dict[str, datetime]:
    """Per target, the moment before which its rows may go."""
    return {t.name: now - t.window(settings) for t in TARGETS}


def preview_plan(settings: RetentionSettings, now: datetime) -> Plan[list[dict[str, Any]]]:
    """Per target: its table, its window's cutoff, the rows its table holds and those a pass
    would delete now."""
    found = []
    totals: dict[str, int] = {}
    moments = cutoffs(settings, now)
    for target in TARGETS:
        cutoff = moments[target.name]
        if target.table.name not in totals:
            totals[target.table.name] = (yield Fetch(TOTALS[target.table.name]))[0][0]
        prunable = (yield Fetch(COUNTS[target.name], {"cutoff": cutoff}))[0][0]
        found.append(
            {
                "target": target.name,
                "table": target.table.name,
                "older_than": cutoff.isoformat(),
                "rows": totals[target.table.name],
                "prunable": prunable,
            }
        )
    return found


StepObserver = Callable[[str, int], None]


class Pruner:
    """Prunes a store in bounded steps, each a transaction of its own on the batch path's store."""

    def __init__(
        self,
        store: BatchStore,
        settings: RetentionSettings,
        clock: Callable[[], datetime] = lambda: datetime.now(timezone.utc),
    ) -> None:
        self.store = store
        self.settings = settings
        self.clock = clock

    async def step(self, name: str, cutoff: datetime, after: int = 0) -> Step:
        """Delete at most ``step_rows`` rows of one target older than ``cutoff`` (reading at
        most that many, past rowid ``after``, where SQLite scans by rowid)."""
        return await self.store.run(
            _step_plan(BY_NAME[name], self.store.dialect, cutoff, self.settings.step_rows, after)
        )

    async def prune(
        self,
        *,
        now: datetime | None = None,
        pause_s: float = 0.0,
        stopping: asyncio.Event | None = None,
        on_step: StepObserver | None = None,
    ) -> dict[str, int]:
        """One pass: every target, step by step until a step finds no more; the rows deleted
        per target. Stops between two steps when ``stopping`` is set."""
        deleted = {t.name: 0 for t in TARGETS}
        for name, cutoff in cutoffs(self.settings, now or self.clock()).items():
            resume: int | None = 0
            while resume is not None and not (stopping and stopping.is_set()):
                step = await self.step(name, cutoff, resume)
                deleted[name] += step.deleted
                resume = step.resume
                if on_step is not None:
                    on_step(name, step.deleted)
                if resume is not None and pause_s:
                    await _pause(stopping, pause_s)
        return deleted


async def _pause(stopping: asyncio.Event | None, seconds: float) -> None:
    if stopping is None:
        await asyncio.sleep(seconds)
        return
    with contextlib.suppress(asyncio.TimeoutError):
        await asyncio.wait_for(stopping.wait(), seconds)


async def pruning_loop(
    store: BatchStore,
    settings: RetentionSettings,
    stopping: asyncio.Event,
    clock: Callable[[], datetime] = lambda: datetime.now(timezone.utc),
) -> None:
    """The bridge's pruner: a pass every ``interval_s`` (the first one an interval after the
    start), until ``stopping``; nothing at all when retention is off. A failing pass is logged
    and the next one tries again."""
    if not settings.enabled:
        return
    pruner = Pruner(store, settings, clock)
    while True:
        await _pause(stopping, settings.interval_s)
        if stopping.is_set():
            return
        try:
            deleted = await pruner.prune(pause_s=settings.step_pause_ms / 1000, stopping=stopping)
        except Exception as error:  # noqa: BLE001 - the pruner must outlive any one failure
            log.warning("retention.prune_failed", error_class=type(error).__name__)
            continue
        if any(deleted.values()):
            log.info("retention.pruned", **deleted)
