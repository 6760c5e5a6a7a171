"""The store state one batch works on: read in one go, changed in memory, written once.

Flows read and change records and links through :class:`BatchState`; nothing they do touches
the database until the batch's writes (``bridge.store.flush``) go out with its commit. The
batch's reads are one plan (:meth:`BatchState.prefetch`, one hand-off to SQLite's thread, a few
round trips to PostgreSQL): the events' records and the records they reference, with the links
of both, then the records (and their links) at the other end of the events' own links. A read a
flow needs beyond that is loaded on demand, several ids at a time.

Records read from the store keep their JSON text until a flow reads them (most prefetched
records are never read): :class:`StoredRecord` decodes on first use.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Callable, Iterable

from bridge.store.batch_store import StoreTransaction
from bridge.store.changes import RecordChange
from bridge.store.plan import Fetch, Plan, Row
from bridge.store.sql import read_json, read_timestamp
from bridge.store.statements import EDGES, LINKS_INTO, PENDING, RECORDS, SEEN
from connectors.common import jsoncodec
from connectors.common.values import ref, text

#: An event's dedupe key, ``(sys_id, sys_mod_count, operation, action, press_id)``: every copy of
#: a change has its version; an action (a request, not a change) adds its press, the event id.
DedupeKey = tuple[str, int, str, str, str]
Edge = tuple[str, str, str]
#: lengths of the undo log, the outbox, processed rows, changes and counts at a savepoint
Savepoint = tuple[int, int, int, int, int]

#: A record with more links than this does not pull the records at their other ends into the
#: prefetch (a major case with its children, say): a flow that needs them loads them.
FANOUT_CAP = 50


class StoredRecord:
    """The latest known state of one record; ``data`` is contract-shaped (read-only)."""

    __slots__ = ("sys_id", "source", "table", "sys_mod_count", "deleted", "_data", "_text")

    def __init__(
        self,
        sys_id: str,
        source: str,
        table: str,
        sys_mod_count: int,
        data: Mapping[str, Any] | None = None,
        deleted: bool = False,
        *,
        text: str | None = None,
    ) -> None:
        self.sys_id = sys_id
        self.source = source
        self.table = table
        self.sys_mod_count = sys_mod_count
        self.deleted = deleted
        self._data = data
        self._text = text

    @property
    def data(self) -> Mapping[str, Any]:
        if self._data is None:
            self._data = read_json(self._text) if self._text else {}
        return self._data

    def json_text(self) -> str:
        """The record as JSON text (what the store keeps)."""
        if self._text is None:
            self._text = jsoncodec.dumps(self._data if self._data is not None else {})
        return self._text

    def lazy(self) -> Mapping[str, Any]:
        """``data``, decoded only if someone reads it."""
        return self._data if self._data is not None else _LazyRecord(self)

    def ref(self, name: str) -> str | None:
        """The sys_id reference ``name`` points to; None when empty."""
        return ref(self.data, name) or None

    def text(self, name: str) -> str:
        return text(self.data, name)

    def __repr__(self) -> str:
        return f"StoredRecord({self.table} {self.sys_id} v{self.sys_mod_count})"


class _LazyRecord(Mapping[str, Any]):
    __slots__ = ("_record",)

    def __init__(self, record: StoredRecord) -> None:
        self._record = record

    def __getitem__(self, key: str) -> Any:
        return self._record.data[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self._record.data)

    def __len__(self) -> int:
        return len(self._record.data)


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
    links_added: dict[Edge, dict[str, Any]] = field(default_factory=dict)
    links_removed: set[Edge] = field(default_factory=set)
    processed: list[dict[str, Any]] = field(default_factory=list)
    outbox: list[dict[str, Any]] = field(default_factory=list)
    dead_letters: list[dict[str, Any]] = field(default_factory=list)
    counters: Counter[str] = field(default_factory=Counter)
    changes: list[RecordChange] = field(default_factory=list)
    published: list[str] = field(default_factory=list)  # earlier outbox rows to mark sent


@dataclass(slots=True)
class _Read:
    """What one read plan found."""

    ids: set[str] = field(default_factory=set)  # records and links read
    record_ids: set[str] = field(default_factory=set)  # records read (not their links)
    records: list[Row] = field(default_factory=list)
    edges: set[Edge] = field(default_factory=set)
    pending: list[Row] = field(default_factory=list)
    seen: list[Row] = field(default_factory=list)


class BatchState:
    """Cached view of the store for one batch, plus the writes the batch makes."""

    def __init__(self, transaction: StoreTransaction, now: datetime, reprocess_salt: str | None = None) -> None:
        self.transaction = transaction
        self.now = now
        self.reprocess_salt = reprocess_salt
        self.writes = BatchWrites()
        self._records: dict[str, StoredRecord | None] = {}
        self._edges = _EdgeIndex()
        self._edges_loaded: set[str] = set()
        self._pending: dict[str, PendingInsert | None] = {}
        self._seen_versions: set[DedupeKey] = set()
        #: reads a flow needed beyond the prefetch (each one a trip to the store)
        self.loads_on_demand = 0
        self._counted: list[tuple[str, int]] = []  # every count, in order (savepoints)
        # (function, args), called as function(self, *args): no closure over ``self``, so a
        # finished batch's state is freed at once instead of waiting for the cycle collector.
        self._undo: list[tuple[Callable[..., None], tuple[Any, ...]]] = []

    # -- per-event savepoints ----------------------------------------------------------------

    def savepoint(self) -> Savepoint:
        """Mark the state so that a failing event can be undone without touching the others."""
        w = self.writes
        return (len(self._undo), len(w.outbox), len(w.processed), len(w.changes), len(self._counted))

    def rollback(self, point: Savepoint) -> None:
        undo_len, outbox_len, processed_len, changes_len, counted_len = point
        while len(self._undo) > undo_len:
            restore, args = self._undo.pop()
            restore(self, *args)
        w = self.writes
        del w.outbox[outbox_len:], w.processed[processed_len:], w.changes[changes_len:]
        counters = w.counters
        while len(self._counted) > counted_len:
            name, n = self._counted.pop()
            counters[name] -= n
            if not counters[name]:
                del counters[name]

    # -- loading ---------------------------------------------------------------------------

    async def prefetch(
        self,
        sys_ids: Iterable[str],
        referenced: Iterable[str] = (),
        followed: Iterable[str] = (),
        *,
        correlation_ids: Iterable[str] = (),
        versions: Iterable[DedupeKey] = (),
    ) -> None:
        """Read what the batch's events need, in one plan: the records ``sys_ids`` and their
        links; the records they reference (``referenced``), with the links of those whose links
        the flows follow (``followed``); the records and links at the other end of the links of
        ``sys_ids``; the pending inserts of ``correlation_ids``; which ``versions`` were
        processed."""
        own = {s for s in sys_ids if s}
        versions = set(versions)
        linked = (own | {s for s in followed if s}) - self._edges_loaded
        # the records of the versions asked about too: whether a version is new is read off them
        records_only = ({s for s in referenced if s} | {v[0] for v in versions}) - linked - self._records.keys()
        correlations = sorted({c for c in correlation_ids if c and c not in self._pending})
        self._take(
            await self.transaction.run(
                _prefetch_plan(linked, records_only, own, correlations, versions, dict(self._records))
            )
        )
        for correlation_id in correlations:
            self._pending.setdefault(correlation_id, None)

    async def load(self, sys_ids: Iterable[str]) -> None:
        """Load records and the links touching them, for ids not loaded yet."""
        wanted = {s for s in sys_ids if s and s not in self._edges_loaded}
        if wanted:
            self.loads_on_demand += 1
            self._take(await self.transaction.run(_records_and_edges_plan(wanted)))

    def _take(self, read: _Read) -> None:
        found = {row[0]: row for row in read.records}
        for sys_id in read.ids | read.record_ids:
            row = found.get(sys_id)
            self._records.setdefault(sys_id, _stored(row) if row is not None else None)
        for edge in read.edges:
            if edge not in self.writes.links_removed:
                self._edges.add(edge)
        self._edges_loaded |= read.ids
        for row in read.pending:
            self._pending[row[0]] = PendingInsert(*row)
        self._seen_versions.update(
            (sys_id, count, operation, action, press) for sys_id, count, operation, action, press in read.seen
        )

    # -- reading ---------------------------------------------------------------------------

    async def record(self, sys_id: str | None) -> StoredRecord | None:
        if not sys_id:
            return None
        if sys_id not in self._records:
            await self.load([sys_id])
        return self._records.get(sys_id)

    async def records(self, sys_ids: Iterable[str]) -> list[StoredRecord]:
        """The live (known, not deleted) records of ``sys_ids``, in that order; the ones not
        read yet are read together, in one statement."""
        ids = list(sys_ids)
        missing = {s for s in ids if s and s not in self._records}
        if missing:
            self.loads_on_demand += 1
            self._take(await self.transaction.run(_records_plan(missing)))
        found = (self._records.get(s) for s in ids if s)
        return [record for record in found if record is not None and not record.deleted]

    async def linked_records(self, kind: str, from_id: str) -> list[StoredRecord]:
        """The live records at the end of ``kind`` links from ``from_id``, by sys_id."""
        return await self.records(await self.linked(kind, from_id))

    async def linked_to_records(self, kind: str, to_id: str) -> list[StoredRecord]:
        """The live records at the start of ``kind`` links into ``to_id``, by sys_id."""
        return await self.records(await self.linked_to(kind, to_id))

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
        self.loads_on_demand += 1
        rows = await self.transaction.run(_links_into_plan(kind, to_id))
        found = {from_id: (read_json(attrs), read_timestamp(created_at)) for from_id, attrs, created_at in rows}
        for (k, from_id, t), attrs in self.writes.links_added.items():
            if k == kind and t == to_id:
                found[from_id] = (attrs, self.now)
        return [
            (from_id, attrs, created_at)
            for from_id, (attrs, created_at) in found.items()
            if (kind, from_id, to_id) not in self.writes.links_removed
        ]

    def pending_insert(self, correlation_id: str | None) -> PendingInsert | None:
        return self._pending.get(correlation_id) if correlation_id else None

    def already_processed(self, version: DedupeKey) -> bool:
        """Whether an event with this key was processed: every copy of a change, redelivered or
        republished, has its key; so has a redelivered copy of a press."""
        return version in self._seen_versions

    # -- writing ---------------------------------------------------------------------------

    def mark_processed(self, row: dict[str, Any]) -> None:
        self.writes.processed.append(row)
        self._seen_versions.add((row["sys_id"], row["sys_mod_count"], row["operation"], row["action"], row["press_id"]))

    def put_record(self, new: StoredRecord, operation: str) -> None:
        before = self._records.get(new.sys_id)
        written = self.writes.records.get(new.sys_id)
        self._undo.append((BatchState._restore_record, (new.sys_id, before, written)))
        self._records[new.sys_id] = new
        self.writes.records[new.sys_id] = new
        self.writes.changes.append(
            RecordChange(
                source=new.source,
                table=new.table,
                sys_id=new.sys_id,
                operation=operation,  # type: ignore[arg-type]
                before=before.lazy() if before is not None and not before.deleted else None,
                after=None if new.deleted else new.data,
            )
        )

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

    def _restore_record(self, sys_id: str, before: StoredRecord | None, written: StoredRecord | None) -> None:
        self._records[sys_id] = before
        if written is None:
            self.writes.records.pop(sys_id, None)
        else:
            self.writes.records[sys_id] = written

    def _restore_pending(self, correlation_id: str, previous: PendingInsert | None) -> None:
        self._pending[correlation_id] = previous

    def _edge_undo(self, edge: Edge) -> tuple[Callable[..., None], tuple[Any, ...]]:
        return (
            BatchState._restore_edge,
            (edge, edge in self._edges, self.writes.links_added.get(edge), edge in self.writes.links_removed),
        )

    def _restore_edge(self, edge: Edge, present: bool, added: dict[str, Any] | None, removed: bool) -> None:
        (self._edges.add if present else self._edges.discard)(edge)
        if added is None:
            self.writes.links_added.pop(edge, None)
        else:
            self.writes.links_added[edge] = added
        (self.writes.links_removed.add if removed else self.writes.links_removed.discard)(edge)

    def count(self, name: str, n: int = 1) -> None:
        self.writes.counters[name] += n
        self._counted.append((name, n))  # undone by ``rollback``


class _EdgeIndex:
    """The loaded edges, findable from either end in constant time."""

    def __init__(self) -> None:
        self._all: set[Edge] = set()
        self._out: dict[tuple[str, str], set[str]] = defaultdict(set)
        self._in: dict[tuple[str, str], set[str]] = defaultdict(set)

    def __contains__(self, edge: Edge) -> bool:
        return edge in self._all

    def add(self, edge: Edge) -> None:
        kind, from_id, to_id = edge
        self._all.add(edge)
        self._out[(kind, from_id)].add(to_id)
        self._in[(kind, to_id)].add(from_id)

    def discard(self, edge: Edge) -> None:
        kind, from_id, to_id = edge
        self._all.discard(edge)
        self._out.get((kind, from_id), set()).discard(to_id)
        self._in.get((kind, to_id), set()).discard(from_id)

    def targets(self, kind: str, from_id: str) -> set[str]:
        return self._out.get((kind, from_id), set())

    def sources(self, kind: str, to_id: str) -> set[str]:
        return self._in.get((kind, to_id), set())


def _stored(row: Row) -> StoredRecord:
    sys_id, source, table, count, deleted, data = row
    return StoredRecord(
        sys_id,
        source,
        table,
        count,
        deleted=bool(deleted),
        text=data if isinstance(data, str) else None,
        data=None if isinstance(data, str) else data,
    )


# -- read plans (run in the store's transaction) ------------------------------------------


def _records_and_edges(ids: set[str], read: _Read) -> Plan[None]:
    if not ids:
        return
    wanted = {"ids": sorted(ids)}
    read.records += yield Fetch(RECORDS, wanted)
    read.edges.update((kind, f, t) for kind, f, t in (yield Fetch(EDGES, wanted)))
    read.ids |= ids


def _records_plan(ids: set[str]) -> Plan[_Read]:
    read = _Read(record_ids=set(ids))
    read.records += yield Fetch(RECORDS, {"ids": sorted(ids)})
    return read


def _records_and_edges_plan(ids: set[str]) -> Plan[_Read]:
    read = _Read()
    yield from _records_and_edges(ids, read)
    return read


def _prefetch_plan(
    linked: set[str],
    records_only: set[str],
    own: set[str],
    correlations: list[str],
    versions: set[DedupeKey],
    known: Mapping[str, StoredRecord | None],
) -> Plan[_Read]:
    read = _Read()
    wanted = linked | records_only
    if wanted:  # one statement for every record, one for the links of those that need them
        read.records += yield Fetch(RECORDS, {"ids": sorted(wanted)})
        read.record_ids |= records_only
    if linked:
        read.edges.update((kind, f, t) for kind, f, t in (yield Fetch(EDGES, {"ids": sorted(linked)})))
        read.ids |= linked
    # The other ends of the events' own links: a work order's case, a case's work orders, an
    # ITSM record's cases… unless a record has many (see FANOUT_CAP).
    ends: dict[str, set[str]] = defaultdict(set)
    for _, from_id, to_id in read.edges:
        if from_id in own:
            ends[from_id].add(to_id)
        if to_id in own:
            ends[to_id].add(from_id)
    others = {other for found in ends.values() if len(found) <= FANOUT_CAP for other in found}
    yield from _records_and_edges(others - read.ids, read)
    if correlations:
        read.pending = yield Fetch(PENDING, {"ids": correlations})
    # Which versions were processed. Processing a version stores the record at that version or
    # a newer one, so a version newer than the stored record (or of a record never stored) is
    # new: most updates need no lookup at all.
    stored = {row[0]: row[3] for row in read.records}
    stored.update(
        (sys_id, record.sys_mod_count)
        for sys_id, record in known.items()
        if record is not None and sys_id not in stored
    )
    maybe_seen = {v for v in versions if v[0] in stored and v[1] <= stored[v[0]]}
    if maybe_seen:
        rows = yield Fetch(
            SEEN, {"ids": sorted({v[0] for v in maybe_seen}), "counts": sorted({v[1] for v in maybe_seen})}
        )
        read.seen = [tuple(row) for row in rows if tuple(row) in maybe_seen]
    return read


def _links_into_plan(kind: str, to_id: str) -> Plan[list[Row]]:
    rows = yield Fetch(LINKS_INTO, {"kind": kind, "to_id": to_id})
    return rows
