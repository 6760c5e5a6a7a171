"""The batch path's statements on the core tables (declared once, compiled once per dialect).

Reads take their keys as one list parameter (``id_list``), so each is one prepared statement
whatever the batch's size; writes are ``executemany`` of one prepared statement per table.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Integer, and_, bindparam, delete, select, union_all, update

from bridge.store.schema import counters, dead_letters, links, outbox, processed_events, records
from bridge.store.sql import Statement, id_list, insert_rows

# -- reads ---------------------------------------------------------------------------------

RECORDS = Statement(
    "records",
    lambda d: select(
        records.c.sys_id,
        records.c.source,
        records.c.table_name,
        records.c.sys_mod_count,
        records.c.deleted,
        records.c.data,
    ).where(records.c.sys_id.in_(id_list("ids", d))),
    "ids",
)

# By either end: two index lookups in one statement (one OR would scan on SQLite).
EDGES = Statement(
    "edges",
    lambda d: union_all(
        select(links.c.kind, links.c.from_id, links.c.to_id).where(links.c.from_id.in_(id_list("ids", d))),
        select(links.c.kind, links.c.from_id, links.c.to_id).where(links.c.to_id.in_(id_list("ids", d))),
    ),
    "ids",
)

LINKS_INTO = Statement(
    "links_into",
    lambda d: select(
        links.c.from_id,
        links.c.attrs,
        links.c.created_at,
    ).where(links.c.kind == bindparam("kind"), links.c.to_id == bindparam("to_id")),
)

PENDING = Statement(
    "pending",
    lambda d: select(
        outbox.c.correlation_id,
        outbox.c.message_id,
        outbox.c.cause_sys_id,
        outbox.c.rule,
        outbox.c.target_table,
    ).where(outbox.c.correlation_id.in_(id_list("ids", d))),
    "ids",
)

# By sys_id (the key's leading column) and sys_mod_count, then matched in Python: a row-value
# IN list is a full scan on SQLite, whatever the index. Bounding sys_mod_count keeps a record's
# long history of versions out of the result.
SEEN = Statement(
    "seen",
    lambda d: select(
        processed_events.c.sys_id,
        processed_events.c.sys_mod_count,
        processed_events.c.operation,
        processed_events.c.action,
        processed_events.c.press_id,
    ).where(
        processed_events.c.sys_id.in_(id_list("ids", d)),
        processed_events.c.sys_mod_count.in_(id_list("counts", d, Integer)),
    ),
    "ids",
    "counts",
)

UNSENT = Statement(
    "unsent",
    lambda d: (
        select(outbox)
        .where(
            outbox.c.sent_at.is_(None),
            outbox.c.created_at <= bindparam("cutoff", type_=outbox.c.created_at.type),
        )
        .order_by(outbox.c.seq)
        .limit(bindparam("limit"))
    ),
)

# -- writes --------------------------------------------------------------------------------


PROCESSED = Statement("processed", lambda d: insert_rows(d, processed_events))
# A forced replay: the first processing's rows stand.
PROCESSED_REPLAYED = Statement(
    "processed_replayed", lambda d: insert_rows(d, processed_events).on_conflict_do_nothing()
)


def _record_upsert(dialect_name: str) -> Any:
    upsert = insert_rows(dialect_name, records)
    return upsert.on_conflict_do_update(
        index_elements=[records.c.sys_id],
        set_={
            c: upsert.excluded[c]
            for c in ("source", "table_name", "number", "sys_mod_count", "deleted", "data", "updated_at")
        },
        # Never let an older version overwrite a newer one (another instance, a replay).
        where=records.c.sys_mod_count <= upsert.excluded.sys_mod_count,
    )


RECORDS_UPSERT = Statement("records_upsert", _record_upsert)
# One primary-key delete per link (a row-value IN list would scan the whole table on SQLite).
LINKS_DELETE = Statement(
    "links_delete",
    lambda d: delete(links).where(
        and_(
            links.c.kind == bindparam("kind"),
            links.c.from_id == bindparam("from_id"),
            links.c.to_id == bindparam("to_id"),
        )
    ),
)
LINKS_INSERT = Statement("links_insert", lambda d: insert_rows(d, links).on_conflict_do_nothing())
OUTBOX_INSERT = Statement(
    "outbox_insert",
    lambda d: insert_rows(d, outbox, "seq").on_conflict_do_nothing(index_elements=[outbox.c.message_id]),
)
DEAD_LETTERS_INSERT = Statement("dead_letters_insert", lambda d: insert_rows(d, dead_letters).on_conflict_do_nothing())
MARK_SENT = Statement(
    "mark_sent",
    lambda d: update(outbox).where(outbox.c.message_id.in_(id_list("ids", d))).values(sent_at=bindparam("now")),
    "ids",
)


def _counter_upsert(dialect_name: str) -> Any:
    upsert = insert_rows(dialect_name, counters)
    return upsert.on_conflict_do_update(
        index_elements=[counters.c.name], set_={"value": counters.c.value + upsert.excluded.value}
    )


COUNTERS_UPSERT = Statement("counters_upsert", _counter_upsert)
