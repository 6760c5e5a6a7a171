"""Write a batch's changes in bulk: a few set-oriented statements per batch, not per event."""

from __future__ import annotations

from functools import cache
from types import SimpleNamespace
from typing import Any, Awaitable, Callable, Sequence

from sqlalchemy import bindparam, delete
from sqlalchemy.ext.asyncio import AsyncConnection

from bridge.pipeline.outbox import mark_sent
from bridge.store.unit_of_work import BatchState
from bridge.store.bulk import execute_many
from bridge.store.changes import RecordChange
from bridge.store.schema import counters, dead_letters, links, outbox, processed_events, records
from bridge.store.sql import dialect_insert

ChangeHook = Callable[[AsyncConnection, Sequence[RecordChange]], Awaitable[None]]


@cache
def _statements(dialect_name: str) -> SimpleNamespace:
    """The batch's write statements for one dialect, built once (building one costs more than
    running it on a small batch)."""
    def insert(table: Any) -> Any:
        return dialect_insert(dialect_name, table)

    record_upsert = insert(records)
    counter_upsert = insert(counters)
    return SimpleNamespace(
        processed=processed_events.insert(),
        processed_replayed=insert(processed_events).on_conflict_do_nothing(),
        records=record_upsert.on_conflict_do_update(
            index_elements=[records.c.sys_id],
            set_={c: record_upsert.excluded[c] for c in
                  ("source", "table_name", "number", "sys_mod_count", "deleted", "data",
                   "updated_at")},
            # Never let an older version overwrite a newer one (another instance, a replay).
            where=records.c.sys_mod_count <= record_upsert.excluded.sys_mod_count,
        ),
        # One primary-key delete per link, sent as one executemany (a row-value IN list would
        # scan the whole table on SQLite).
        links_removed=delete(links).where(
            links.c.kind == bindparam("k"), links.c.from_id == bindparam("f"),
            links.c.to_id == bindparam("t")),
        links_added=insert(links).on_conflict_do_nothing(),
        outbox=insert(outbox).on_conflict_do_nothing(index_elements=[outbox.c.message_id]),
        dead_letters=insert(dead_letters).on_conflict_do_nothing(),
        counters=counter_upsert.on_conflict_do_update(
            index_elements=[counters.c.name],
            set_={"value": counters.c.value + counter_upsert.excluded.value}),
    )


async def flush(state: BatchState, hooks: Sequence[ChangeHook] = ()) -> None:
    """Write everything ``state`` collected; the caller owns the transaction."""
    conn, w, now = state.conn, state.writes, state.now
    sql = _statements(conn.dialect.name)
    if w.processed and state.reprocess_salt is not None:
        # A forced replay: the first processing's rows stand (the outcome of the replay is in
        # the outbox rows and the counters).
        await execute_many(conn, sql.processed_replayed, w.processed)
    elif w.processed:
        # A plain insert: if another instance processed one of these events concurrently,
        # the unique key fails the whole transaction and the batch is retried as duplicates.
        await execute_many(conn, sql.processed, w.processed)
    if w.records:
        await execute_many(conn, sql.records, [
            {"sys_id": r.sys_id, "source": r.source, "table_name": r.table,
             "number": (r.data.get("number") or None) if isinstance(r.data.get("number"), str) else None,
             "sys_mod_count": r.sys_mod_count, "deleted": r.deleted, "data": dict(r.data),
             "updated_at": now}
            for r in w.records.values()
        ])
    if w.links_removed:
        await execute_many(conn, sql.links_removed,
                           [{"k": k, "f": f, "t": t} for k, f, t in sorted(w.links_removed)])
    if w.links_added:
        await execute_many(conn, sql.links_added, [
            {"kind": k, "from_id": f, "to_id": t, "attrs": attrs, "created_at": now}
            for (k, f, t), attrs in w.links_added.items()
        ])
    if w.outbox:
        await execute_many(conn, sql.outbox, w.outbox)
    if w.dead_letters:
        await execute_many(conn, sql.dead_letters, w.dead_letters)
    if w.published:
        await mark_sent(conn, w.published, now)
    if w.counters:
        await execute_many(conn, sql.counters,
                           [{"name": k, "value": v} for k, v in sorted(w.counters.items())])
    if w.changes:
        for hook in hooks:
            await hook(conn, w.changes)
