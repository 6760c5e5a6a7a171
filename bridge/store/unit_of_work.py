"""The store state one batch works on: prefetched in a few queries, changed in memory, flushed once.

Flows read and change records and links through :class:`BatchState`; nothing they do touches
the database until :func:`bridge.pipeline.flush.flush` writes everything in bulk inside the
batch's transaction. Reads that miss the prefetch are loaded on demand, several ids at a time.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Callable, Iterable, Mapping

from sqlalchemy import bindparam, or_, select
from sqlalchemy.ext.asyncio import AsyncConnection

from bridge.store.changes import RecordChange
from bridge.store.sql import IDS, chunks
from bridge.store.schema import links, outbox, processed_events, records

# Built once: constructing and cache-keying a statement costs more than running it on a small
# batch. ``ids`` (and ``counts``) expand to the batch's values at execution.
_RECORDS = select(records).where(records.c.sys_id.in_(IDS))
_EDGES = select(links.c.kind, links.c.from_id, links.c.to_id).where(
    or_(links.c.from_id.in_(IDS), links.c.to_id.in_(IDS)))
_PENDING = select(outbox.c.correlation_id, outbox.c.message_id, outbox.c.cause_sys_id,
                  outbox.c.rule, outbox.c.target_table).where(outbox.c.correlation_id.in_(IDS))
_LINKS_INTO = select(links.c.from_id, links.c.attrs, links.c.created_at).where(
    links.c.kind == bindparam("kind"), links.c.to_id == bindparam("to_id"))
# By sys_id (the unique key's leading column) and sys_mod_count, then matched here: a row-value
# IN list is a full scan on SQLite, whatever the index. Bounding sys_mod_count keeps a record's
# long history of versions out of the result.
_SEEN_VERSIONS = select(processed_events.c.sys_id, processed_events.c.sys_mod_count,
                        processed_events.c.operation, processed_events.c.action,
                        processed_events.c.press_id).where(
    processed_events.c.sys_id.in_(IDS),
    processed_events.c.sys_mod_count.in_(bindparam("counts", expanding=True)))


#: An event's dedupe key, ``(sys_id, sys_mod_count, operation, action, press_id)``: every copy of
#: a change has its version; an action (a request, not a change) adds its press, the event id.
DedupeKey = tuple[str, int, str, str, str]


@dataclass(frozen=True, slots=True)
class StoredRecord:
    """The latest known state of one record."""

    sys_id: str
    source: str
    table: str
    sys_mod_count: int
    data: Mapping[str, Any]
    deleted: bool = False

    def ref(self, name: str) -> str | None:
        value = self.data.get(name)
        return value.get("value") or None if isinstance(value, dict) else None

    def text(self, name: str) -> str:
        value = self.data.get(name, "")
        if isinstance(value, dict):
            return str(value.get("display_value", ""))
        return value if isinstance(value, str) else str(value)


@dataclass(slots=True)
class PendingInsert:
    """An insert command the bridge sent, found again by its correlation id."""

    correlation_id: str
    message_id: str
    cause_sys_id: str | None
    rule: str | None
    target_table: str | None


@dataclass(slots=True)
class BatchWrites:
    """Everything a batch will write, in the order it happened."""

    records: dict[str, StoredRecord] = field(default_factory=dict)
    links_added: dict[tuple[str, str, str], dict[str, Any]] = field(default_factory=dict)
    links_removed: set[tuple[str, str, str]] = field(default_factory=set)
    processed: list[dict[str, Any]] = field(default_factory=list)
    outbox: list[dict[str, Any]] = field(default_factory=list)
    dead_letters: list[dict[str, Any]] = field(default_factory=list)
    counters: Counter[str] = field(default_factory=Counter)
    changes: list[RecordChange] = field(default_factory=list)
    published: list[str] = field(default_factory=list)  # earlier outbox rows to mark sent


class BatchState:
    """Cached view of the store for one batch, plus the writes the batch makes."""

    def __init__(self, conn: AsyncConnection, now: datetime,
                 reprocess_salt: str | None = None) -> None:
        self.conn = conn
        self.now = now
        self.reprocess_salt = reprocess_salt
        self.writes = BatchWrites()
        self._records: dict[str, StoredRecord | None] = {}
        self._edges = _EdgeIndex()
        self._edges_loaded: set[str] = set()
        self._pending: dict[str, PendingInsert | None] = {}
        self._seen_versions: set[DedupeKey] = set()
        # (function, args), called as function(self, *args): no closure over ``self``, so a
        # finished batch's state is freed at once instead of waiting for the cycle collector.
        self._undo: list[tuple[Callable[..., None], tuple[Any, ...]]] = []

    # -- per-event savepoints ----------------------------------------------------------------

    def savepoint(self) -> tuple[int, int, int, int, Counter[str]]:
        """Mark the state so that a failing event can be undone without touching the others."""
        w = self.writes
        return (len(self._undo), len(w.outbox), len(w.processed), len(w.changes),
                Counter(w.counters))

    def rollback(self, point: tuple[int, int, int, int, Counter[str]]) -> None:
        undo_len, outbox_len, processed_len, changes_len, counters = point
        while len(self._undo) > undo_len:
            restore, args = self._undo.pop()
            restore(self, *args)
        w = self.writes
        del w.outbox[outbox_len:], w.processed[processed_len:], w.changes[changes_len:]
        w.counters = counters

    # -- loading ---------------------------------------------------------------------------

    async def prefetch(self, sys_ids: Iterable[str], correlation_ids: Iterable[str] = (),
                       versions: Iterable[DedupeKey] = ()) -> None:
        """Load, in a handful of queries, what the batch's events refer to."""
        await self.load(sys_ids)
        await self._load_pending(correlation_ids)
        await self._load_seen(list(versions))

    async def load(self, sys_ids: Iterable[str]) -> None:
        """Load records and the links touching them, for ids not loaded yet."""
        wanted = {s for s in sys_ids if s and s not in self._edges_loaded}
        if not wanted:
            return
        for chunk in chunks(sorted(wanted)):
            found = {r.sys_id: r for r in await self.conn.execute(_RECORDS, {"ids": chunk})}
            for sys_id in chunk:
                row = found.get(sys_id)
                self._records.setdefault(sys_id, _stored(row) if row is not None else None)
            for kind, from_id, to_id in await self.conn.execute(_EDGES, {"ids": chunk}):
                if (kind, from_id, to_id) not in self.writes.links_removed:
                    self._edges.add((kind, from_id, to_id))
        self._edges_loaded |= wanted

    async def _load_pending(self, correlation_ids: Iterable[str]) -> None:
        wanted = [c for c in set(correlation_ids) if c and c not in self._pending]
        for chunk in chunks(wanted):
            for row in await self.conn.execute(_PENDING, {"ids": chunk}):
                self._pending[row.correlation_id] = PendingInsert(*row)
            for c in chunk:
                self._pending.setdefault(c, None)

    async def _load_seen(self, versions: list[DedupeKey]) -> None:
        wanted = set(versions)
        counts = sorted({v[1] for v in wanted})
        for chunk in chunks(sorted({v[0] for v in wanted})):
            rows = await self.conn.execute(_SEEN_VERSIONS, {"ids": chunk, "counts": counts})
            self._seen_versions.update(v for v in map(tuple, rows) if v in wanted)

    # -- reading ---------------------------------------------------------------------------

    async def record(self, sys_id: str | None) -> StoredRecord | None:
        if not sys_id:
            return None
        if sys_id not in self._records:
            await self.load([sys_id])
        return self._records.get(sys_id)

    async def linked(self, kind: str, from_id: str) -> list[str]:
        """Targets of ``kind`` edges from ``from_id`` (sorted, for deterministic output)."""
        await self.load([from_id])
        return sorted(self._edges.targets(kind, from_id))

    async def linked_to(self, kind: str, to_id: str) -> list[str]:
        """Sources of ``kind`` edges into ``to_id``."""
        await self.load([to_id])
        return sorted(self._edges.sources(kind, to_id))

    async def links_into(self, kind: str, to_id: str) -> list[tuple[str, dict[str, Any], datetime]]:
        """``(from_id, attrs, created_at)`` of the ``kind`` links into ``to_id``, stored ones and
        this batch's own (not loaded with a record's edges: these carry attributes)."""
        found = {from_id: (attrs, created_at) for from_id, attrs, created_at in
                 await self.conn.execute(_LINKS_INTO, {"kind": kind, "to_id": to_id})}
        for (k, from_id, t), attrs in self.writes.links_added.items():
            if k == kind and t == to_id:
                found[from_id] = (attrs, self.now)
        return [(from_id, attrs, created_at) for from_id, (attrs, created_at) in found.items()
                if (kind, from_id, to_id) not in self.writes.links_removed]

    def pending_insert(self, correlation_id: str | None) -> PendingInsert | None:
        return self._pending.get(correlation_id) if correlation_id else None

    def already_processed(self, version: DedupeKey) -> bool:
        """Whether an event with this key was processed: every copy of a change, redelivered or
        republished, has its key; so has a redelivered copy of a press."""
        return version in self._seen_versions

    # -- writing ---------------------------------------------------------------------------

    def mark_processed(self, row: dict[str, Any]) -> None:
        self.writes.processed.append(row)
        self._seen_versions.add((row["sys_id"], row["sys_mod_count"], row["operation"],
                                 row["action"], row["press_id"]))

    def put_record(self, new: StoredRecord, operation: str) -> None:
        before = self._records.get(new.sys_id)
        written = self.writes.records.get(new.sys_id)
        self._undo.append((BatchState._restore_record, (new.sys_id, before, written)))
        self._records[new.sys_id] = new
        self.writes.records[new.sys_id] = new
        self.writes.changes.append(RecordChange(
            source=new.source, table=new.table, sys_id=new.sys_id,
            operation=operation,  # type: ignore[arg-type]
            before=before.data if before is not None and not before.deleted else None,
            after=None if new.deleted else new.data,
        ))

    def add_link(self, kind: str, from_id: str, to_id: str, **attrs: Any) -> bool:
        """Add an edge; False when it already existed."""
        edge = (kind, from_id, to_id)
        if edge in self._edges:
            return False
        self._undo.append(self._edge_undo(edge))
        self.writes.links_removed.discard(edge)
        self._edges.add(edge)
        self.writes.links_added[edge] = attrs
        return True

    def remove_link(self, kind: str, from_id: str, to_id: str) -> None:
        edge = (kind, from_id, to_id)
        if edge not in self._edges:
            return
        self._undo.append(self._edge_undo(edge))
        self._edges.discard(edge)
        self.writes.links_added.pop(edge, None)
        self.writes.links_removed.add(edge)

    def remember_pending(self, pending: PendingInsert) -> None:
        previous = self._pending.get(pending.correlation_id)
        self._undo.append((BatchState._restore_pending, (pending.correlation_id, previous)))
        self._pending[pending.correlation_id] = pending

    def _restore_record(self, sys_id: str, before: StoredRecord | None,
                        written: StoredRecord | None) -> None:
        self._records[sys_id] = before
        if written is None:
            self.writes.records.pop(sys_id, None)
        else:
            self.writes.records[sys_id] = written

    def _restore_pending(self, correlation_id: str, previous: PendingInsert | None) -> None:
        self._pending[correlation_id] = previous

    def _edge_undo(self, edge: tuple[str, str, str]) -> tuple[Callable[..., None], tuple[Any, ...]]:
        return (BatchState._restore_edge, (edge, edge in self._edges,
                                           self.writes.links_added.get(edge),
                                           edge in self.writes.links_removed))

    def _restore_edge(self, edge: tuple[str, str, str], present: bool,
                      added: dict[str, Any] | None, removed: bool) -> None:
        (self._edges.add if present else self._edges.discard)(edge)
        if added is None:
            self.writes.links_added.pop(edge, None)
        else:
            self.writes.links_added[edge] = added
        (self.writes.links_removed.add if removed else self.writes.links_removed.discard)(edge)

    def count(self, name: str, n: int = 1) -> None:
        self.writes.counters[name] += n


class _EdgeIndex:
    """The loaded edges, findable from either end in constant time."""

    def __init__(self) -> None:
        self._all: set[tuple[str, str, str]] = set()
        self._out: dict[tuple[str, str], set[str]] = defaultdict(set)
        self._in: dict[tuple[str, str], set[str]] = defaultdict(set)

    def __contains__(self, edge: tuple[str, str, str]) -> bool:
        return edge in self._all

    def add(self, edge: tuple[str, str, str]) -> None:
        kind, from_id, to_id = edge
        self._all.add(edge)
        self._out[(kind, from_id)].add(to_id)
        self._in[(kind, to_id)].add(from_id)

    def discard(self, edge: tuple[str, str, str]) -> None:
        kind, from_id, to_id = edge
        self._all.discard(edge)
        self._out.get((kind, from_id), set()).discard(to_id)
        self._in.get((kind, to_id), set()).discard(from_id)

    def targets(self, kind: str, from_id: str) -> set[str]:
        return self._out.get((kind, from_id), set())

    def sources(self, kind: str, to_id: str) -> set[str]:
        return self._in.get((kind, to_id), set())


def _stored(row: Any) -> StoredRecord:
    return StoredRecord(row.sys_id, row.source, row.table_name, row.sys_mod_count, row.data,
                        bool(row.deleted))
