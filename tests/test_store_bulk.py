"""``execute_many`` writes exactly what ``conn.execute(statement, rows)`` writes, on both stores.

The batch flush writes its rows through it; a difference in a JSON column, a timestamp, a NULL or
a default would corrupt the store quietly, so every column kind is compared with SQLAlchemy's own
path, on real SQLite and real PostgreSQL.
"""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any

import pytest
from sqlalchemy import event, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncEngine

from bridge.store.bulk import execute_many
from bridge.store.schema import counters, links, outbox
from bridge.store.sql import dialect_insert

NOW = datetime(2026, 11, 30, 21, 0, 5, 123456, tzinfo=timezone.utc)
OUTBOX_INSERT = outbox.insert()
LINKS_INSERT = links.insert()


def _outbox_row(message_id: str, **changes: Any) -> dict[str, Any]:
    row = {
        "message_id": message_id, "kind": "command", "topic": "fsm.commands", "msg_key": "k",
        "payload": b"{\"a\":1}", "headers": {"x-bridge-kind": "command", "n": "é"},
        "target": "fsm", "target_table": "wm_order", "target_sys_id": None,
        "correlation_id": None, "cause_event_id": "e1", "cause_sys_id": "s1", "rule": None,
        "mapping_version": "v1", "created_at": NOW, "sent_at": None,
    }
    return {**row, **changes}


async def _outbox_rows(engine: AsyncEngine) -> dict[str, dict[str, Any]]:
    async with engine.connect() as conn:
        rows = (await conn.execute(select(outbox))).mappings().all()
    return {row["message_id"]: {k: v for k, v in row.items() if k not in ("seq", "message_id")}
            for row in rows}


async def test_every_column_kind_reads_back_as_sqlalchemys_own_path_wrote_it(
        any_store: AsyncEngine) -> None:
    variants = [{}, {"headers": {}, "sent_at": NOW, "target_sys_id": "t" * 64},
                {"headers": {"nested": {"list": [1, None, "x"]}}, "payload": b"\x00\xff"}]
    sent: list[tuple[bool, bool, str]] = []

    @event.listens_for(any_store.sync_engine, "before_cursor_execute")
    def _sent(conn: Any, cursor: Any, statement: str, parameters: Any, context: Any,
              executemany: bool) -> None:
        sent.append((context.compiled is not None, executemany, statement))

    async with any_store.begin() as conn:
        await conn.execute(OUTBOX_INSERT,
                           [_outbox_row(f"sa-{i}", **v) for i, v in enumerate(variants)])
        await execute_many(conn, OUTBOX_INSERT,
                           [_outbox_row(f"bulk-{i}", **v) for i, v in enumerate(variants)])
    inserts = [(compiled, many) for compiled, many, sql in sent if sql.startswith("INSERT")]
    assert inserts == [(True, True), (False, True)], "one executemany each; ours precompiled"
    assert "RETURNING" not in sent[-1][2]

    rows = await _outbox_rows(any_store)
    for i in range(len(variants)):
        assert rows[f"bulk-{i}"] == rows[f"sa-{i}"]
    assert rows["bulk-2"]["headers"] == {"nested": {"list": [1, None, "x"]}}
    assert rows["bulk-1"]["sent_at"].replace(tzinfo=timezone.utc) == NOW


async def test_an_upsert_with_its_conflict_clause_runs_as_compiled(any_store: AsyncEngine) -> None:
    upsert = dialect_insert(any_store.dialect.name, counters)
    upsert = upsert.on_conflict_do_update(index_elements=[counters.c.name],
                                          set_={"value": counters.c.value + upsert.excluded.value})
    async with any_store.begin() as conn:
        await execute_many(conn, upsert, [{"name": "a", "value": 2}, {"name": "b", "value": 5}])
        await execute_many(conn, upsert, [{"name": "a", "value": 3}])
        values = dict((await conn.execute(select(counters.c.name, counters.c.value))).all())
    assert values == {"a": 5, "b": 5}


async def test_rows_without_a_defaulted_column_still_get_its_default(
        any_store: AsyncEngine) -> None:
    # links.attrs defaults to {} in Python: the fast path cannot fill it in, SQLAlchemy's does.
    async with any_store.begin() as conn:
        await execute_many(conn, LINKS_INSERT, [
            {"kind": "k", "from_id": "a" * 32, "to_id": "b" * 32, "created_at": NOW}])
        attrs = (await conn.execute(select(links.c.attrs))).scalar_one()
    assert attrs == {}


async def test_a_refused_row_raises_the_same_error_as_sqlalchemys_path(
        any_store: AsyncEngine) -> None:
    for write in (lambda conn, rows: conn.execute(OUTBOX_INSERT, rows),
                  lambda conn, rows: execute_many(conn, OUTBOX_INSERT, rows)):
        with pytest.raises(IntegrityError):  # what the pipeline classifies as a store refusal
            async with any_store.begin() as conn:
                await write(conn, [_outbox_row("x", topic=None)])
