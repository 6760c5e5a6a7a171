"""A batch's writes as one plan: a few set-oriented statements per batch, not per event.

Run with the batch's commit (``StoreTransaction.commit``): on SQLite the writes and the commit
are one hand-off to the store's thread. Hooks that keep derived indexes (the visibility index)
are plans too, run after the records are written, in the same transaction.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from bridge.store.changes import RecordChange
from bridge.store.plan import Execute, ExecuteMany, Plan
from bridge.store.statements import (
    COUNTERS_UPSERT,
    DEAD_LETTERS_INSERT,
    LINKS_DELETE,
    LINKS_INSERT,
    MARK_SENT,
    OUTBOX_INSERT,
    PROCESSED,
    PROCESSED_REPLAYED,
    RECORDS_UPSERT,
)
from bridge.store.unit_of_work import BatchState

#: Keeps a derived index up to date with a batch's record changes, as a plan.
ChangeHook = Callable[[Sequence[RecordChange]], Plan[None]]


def flush_plan(state: BatchState, hooks: Sequence[ChangeHook] = ()) -> Plan[None]:
    """Everything ``state`` collected, as statements; the caller runs it in the transaction."""
    w, now = state.writes, state.now
    if w.processed:
        # A forced replay: the first processing's rows stand (the replay's outcome is in its
        # outbox rows and counters). Otherwise a plain insert: if another instance processed one
        # of these events concurrently, the unique key fails the whole transaction and the
        # batch is retried, finding duplicates.
        yield ExecuteMany(PROCESSED_REPLAYED if state.reprocess_salt is not None else PROCESSED, w.processed)
    if w.records:
        yield ExecuteMany(
            RECORDS_UPSERT,
            [
                {
                    "sys_id": r.sys_id,
                    "source": r.source,
                    "table_name": r.table,
                    "number": _number(r.data.get("number")),
                    "sys_mod_count": r.sys_mod_count,
                    "deleted": r.deleted,
                    "data": r.json_text(),
                    "updated_at": now,
                }
                for r in w.records.values()
            ],
        )
    if w.links_removed:
        yield ExecuteMany(LINKS_DELETE, [{"kind": k, "from_id": f, "to_id": t} for k, f, t in sorted(w.links_removed)])
    if w.links_added:
        yield ExecuteMany(
            LINKS_INSERT,
            [
                {"kind": k, "from_id": f, "to_id": t, "attrs": attrs, "created_at": now}
                for (k, f, t), attrs in w.links_added.items()
            ],
        )
    if w.outbox:
        yield ExecuteMany(OUTBOX_INSERT, w.outbox)
    if w.dead_letters:
        yield ExecuteMany(DEAD_LETTERS_INSERT, w.dead_letters)
    if w.published:
        yield Execute(MARK_SENT, {"ids": w.published, "now": now})
    if w.counters:
        yield ExecuteMany(COUNTERS_UPSERT, [{"name": k, "value": v} for k, v in sorted(w.counters.items())])
    if w.changes:
        for hook in hooks:
            yield from hook(w.changes)


def _number(value: object) -> str | None:
    return (value or None) if isinstance(value, str) else None
