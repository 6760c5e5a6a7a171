"""The batch path's store layer (``bridge.store.batch_store``) on real SQLite and PostgreSQL.

The batch path writes with its own prepared statements on the drivers; the operators' tools and
the portal read with SQLAlchemy. A difference in a JSON column, a timestamp, a NULL or a flag
would corrupt the store quietly, so what the batch path writes is compared with what
SQLAlchemy's own path writes, column kind by column kind, on both stores.
"""

from __future__ import annotations

import asyncio
import sqlite3
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import insert, literal_column, select, table
from sqlalchemy.ext.asyncio import AsyncEngine

from bridge.pipeline.errors import is_transient, store_rejection
from bridge.settings import StoreSettings
from bridge.store.batch_store import BatchStore, open_batch_store
from bridge.store.migrate import upgrade
from bridge.store.plan import Execute, ExecuteMany, Fetch, Plan, run_sqlalchemy
from bridge.store.schema import counters, outbox, records
from bridge.store.sql import Statement
from bridge.store.statements import (
    COUNTERS_UPSERT,
    OUTBOX_INSERT,
    RECORDS,
    RECORDS_UPSERT,
    SEEN,
)
from tests.fixtures.store import batch_store_of

NOW = datetime(2026, 11, 30, 21, 0, 5, 123456, tzinfo=timezone.utc)


def _outbox_row(message_id: str, **changes: Any) -> dict[str, Any]:
    row = {
        "message_id": message_id,
        "kind": "command",
        "topic": "fsm.commands",
        "msg_key": "k",
        "payload": b'{"a":1}',
        "headers": {"x-bridge-kind": "command", "n": "é"},
        "target": "fsm",
        "target_table": "wm_order",
        "target_sys_id": None,
        "correlation_id": None,
        "cause_event_id": "e1",
        "cause_sys_id": "s1",
        "rule": None,
        "mapping_version": "v1",
        "created_at": NOW,
        "sent_at": None,
    }
    return {**row, **changes}


def _many(statement: Any, rows: list[dict[str, Any]]) -> Plan[None]:
    yield ExecuteMany(statement, rows)


def _fetch(statement: Any, **params: Any) -> Plan[list[Any]]:
    rows = yield Fetch(statement, params)
    return rows


async def _outbox_rows(engine: AsyncEngine) -> dict[str, dict[str, Any]]:
    async with engine.connect() as conn:
        rows = (await conn.execute(select(outbox))).mappings().all()
    return {row["message_id"]: {k: v for k, v in row.items() if k not in ("seq", "message_id")} for row in rows}


@pytest.fixture
async def store(any_store: AsyncEngine) -> BatchStore:
    return batch_store_of(any_store)


async def test_every_column_kind_reads_back_as_sqlalchemys_own_path_wrote_it(
    any_store: AsyncEngine, store: BatchStore
) -> None:
    variants = [
        {},
        {"headers": {}, "sent_at": NOW, "target_sys_id": "t" * 64},
        {"headers": {"nested": {"list": [1, None, "x"]}}, "payload": b"\x00\xff"},
    ]
    async with any_store.begin() as conn:
        await conn.execute(insert(outbox), [_outbox_row(f"sa-{i}", **v) for i, v in enumerate(variants)])
    await store.run(_many(OUTBOX_INSERT, [_outbox_row(f"ours-{i}", **v) for i, v in enumerate(variants)]))
    rows = await _outbox_rows(any_store)
    for i in range(len(variants)):
        assert rows[f"ours-{i}"] == rows[f"sa-{i}"]
    assert rows["ours-2"]["headers"] == {"nested": {"list": [1, None, "x"]}}
    assert rows["ours-1"]["sent_at"].replace(tzinfo=timezone.utc) == NOW


async def test_records_keep_their_json_text_and_flags_and_the_newest_version_wins(
    any_store: AsyncEngine, store: BatchStore
) -> None:
    def row(count: int, deleted: bool, data: Any) -> dict[str, Any]:
        return {
            "sys_id": "a" * 32,
            "source": "csm",
            "table_name": "sn_customerservice_case",
            "number": "CS1",
            "sys_mod_count": count,
            "deleted": deleted,
            "data": data,
            "updated_at": NOW,
        }

    await store.run(_many(RECORDS_UPSERT, [row(2, True, '{"state": "3", "n": "é"}')]))
    await store.run(_many(RECORDS_UPSERT, [row(1, False, {"state": "1"})]))  # older: ignored
    async with any_store.connect() as conn:
        stored = (await conn.execute(select(records))).mappings().one()
    assert (stored["sys_mod_count"], stored["deleted"], stored["data"]) == (2, True, {"state": "3", "n": "é"})
    [(sys_id, _, _, count, deleted, data)] = await store.run(_fetch(RECORDS, ids=["a" * 32]))
    assert (sys_id, count, bool(deleted), data) == ("a" * 32, 2, True, '{"state": "3", "n": "é"}')


async def test_a_list_parameter_takes_any_number_of_ids_in_one_statement(store: BatchStore) -> None:
    ids = [f"{i:032x}" for i in range(20_000)]
    await store.run(
        _many(
            RECORDS_UPSERT,
            [
                {
                    "sys_id": i,
                    "source": "csm",
                    "table_name": "t",
                    "number": None,
                    "sys_mod_count": 0,
                    "deleted": False,
                    "data": "{}",
                    "updated_at": NOW,
                }
                for i in ids[::100]
            ],
        )
    )
    found = await store.run(_fetch(RECORDS, ids=ids))
    assert sorted(r[0] for r in found) == ids[::100]
    assert await store.run(_fetch(SEEN, ids=ids[:3], counts=[0, 1])) == []


async def test_an_upsert_with_its_conflict_clause_adds_up(any_store: AsyncEngine, store: BatchStore) -> None:
    await store.run(_many(COUNTERS_UPSERT, [{"name": "a", "value": 2}, {"name": "b", "value": 5}]))
    await store.run(_many(COUNTERS_UPSERT, [{"name": "a", "value": 3}]))
    async with any_store.connect() as conn:
        values = dict((await conn.execute(select(counters.c.name, counters.c.value))).all())
    assert values == {"a": 5, "b": 5}


async def test_a_rolled_back_or_failed_transaction_leaves_nothing(any_store: AsyncEngine, store: BatchStore) -> None:
    transaction = await store.begin()
    await transaction.run(_many(OUTBOX_INSERT, [_outbox_row("undone")]))
    await transaction.rollback()

    def writes_then_fails() -> Plan[None]:
        yield ExecuteMany(OUTBOX_INSERT, [_outbox_row("half")])
        yield ExecuteMany(OUTBOX_INSERT, [_outbox_row("bad", topic=None)])

    transaction = await store.begin()
    with pytest.raises(Exception) as refused:
        await transaction.commit(writes_then_fails())
    assert store_rejection(refused.value) is not None and not is_transient(refused.value)
    await store.run(_many(OUTBOX_INSERT, [_outbox_row("kept")]))  # the store goes on
    assert set(await _outbox_rows(any_store)) == {"kept"}


async def test_the_same_plan_runs_through_sqlalchemy(any_store: AsyncEngine) -> None:
    """The operators' tools run the batch path's plans through their SQLAlchemy connection."""
    async with any_store.begin() as conn:
        await run_sqlalchemy(conn, _many(OUTBOX_INSERT, [_outbox_row("tool")]))
        rows = await run_sqlalchemy(conn, _fetch(RECORDS, ids=["b" * 32]))
    assert rows == [] and (await _outbox_rows(any_store))["tool"]["headers"] == {"x-bridge-kind": "command", "n": "é"}


async def test_waiting_for_the_write_lock_does_not_stall_the_event_loop(tmp_path: Path) -> None:
    """Another process holds SQLite's write lock: the batch's BEGIN waits in the store's thread
    (busy timeout) while the event loop goes on serving everything else (heartbeats, HTTP).

    Counted, not timed: the loop must turn 20 times while the write waits, and the lock is then
    released *from the loop*. Were BEGIN waiting on the loop, neither could happen before the
    busy timeout ran out, and the write would fail ("database is locked")."""
    url = f"sqlite+aiosqlite:///{tmp_path / 'x.db'}"
    await upgrade(url)
    holder = sqlite3.connect(tmp_path / "x.db", isolation_level=None)
    holder.execute("PRAGMA journal_mode=WAL")
    holder.execute("BEGIN IMMEDIATE")
    store = open_batch_store(StoreSettings(url=url, busy_timeout_ms=60_000))
    try:
        writing = asyncio.create_task(store.run(_many(OUTBOX_INSERT, [_outbox_row("late")])))
        for _ in range(20):  # the loop turns while BEGIN waits
            await asyncio.sleep(0.01)
            assert not writing.done(), "the write ended while another process held the lock"
        holder.execute("COMMIT")  # from the loop: only a free loop gets here
        await asyncio.wait_for(writing, 60)
    finally:
        holder.close()
        await store.close()
    with sqlite3.connect(tmp_path / "x.db") as other:
        assert other.execute("SELECT message_id FROM outbox").fetchall() == [("late",)]


async def test_a_lock_held_past_the_busy_timeout_is_an_outage_not_the_datas_fault(tmp_path: Path) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'x.db'}"
    await upgrade(url)
    holder = sqlite3.connect(tmp_path / "x.db", isolation_level=None)
    holder.execute("PRAGMA journal_mode=WAL")
    holder.execute("BEGIN IMMEDIATE")
    store = open_batch_store(StoreSettings(url=url, busy_timeout_ms=100))
    try:
        with pytest.raises(sqlite3.OperationalError) as locked:
            await store.run(_many(OUTBOX_INSERT, [_outbox_row("x")]))
        assert is_transient(locked.value) and store_rejection(locked.value) is None
        holder.execute("ROLLBACK")
        await store.run(_many(OUTBOX_INSERT, [_outbox_row("x")]))  # and it recovers
    finally:
        holder.close()
        await store.close()


async def test_a_statement_the_code_gets_wrong_is_a_bug_not_an_outage(store: BatchStore) -> None:
    """A statement the driver refuses for its form (not the data, not the server) would fail on
    every retry: it must fail the batch (and be isolated), never be waited out."""

    def wrong() -> Plan[None]:
        yield Execute(Statement("wrong", lambda d: select(literal_column("x")).select_from(table("no_such_table"))))

    with pytest.raises(Exception) as bug:
        await store.run(wrong())
    assert not is_transient(bug.value)
