"""Retention on real stores (SQLite and PostgreSQL): what goes, what never goes, in bounded
steps; a redelivered copy of a pruned change is stopped by the stale guard; `bridge db
prune | current | history | backup`."""

from __future__ import annotations

import asyncio
import json
import os
import sqlite3
import subprocess
import sys
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

from sqlalchemy import func, insert, inspect, select
from sqlalchemy.ext.asyncio import AsyncEngine

from bridge.flows import routing_log
from bridge.settings import RetentionSettings
from bridge.store.migrate import upgrade
from bridge.store.plan import run_sqlalchemy
from bridge.store.retention import TARGETS, Pruner, preview_plan, pruning_loop
from bridge.store.schema import (
    ROUTING_LOG_KIND,
    dead_letters,
    links,
    outbox,
    processed_events,
    records,
)
from tests.fixtures.events import make_event
from tests.fixtures.store import batch_store_of
from tests.pipeline.harness import Harness

ROOT = Path(__file__).resolve().parents[1]
NOW = datetime(2026, 12, 4, 12, 0, tzinfo=timezone.utc)


def _processed(i: int, at: datetime, action: str = "") -> dict[str, Any]:
    return {
        "event_id": f"e-{i}",
        "source": "csm",
        "table_name": "sn_customerservice_case",
        "sys_id": f"{i:032x}",
        "sys_mod_count": 1,
        "operation": "action" if action else "update",
        "action": action,
        "press_id": f"e-{i}" if action else "",
        "outcome": "applied",
        "detail": None,
        "mapping_version": "1",
        "topic": "csm.events",
        "partition": 0,
        "offset": i,
        "processed_at": at,
    }


def _outbox(
    message_id: str,
    created: datetime,
    sent: datetime | None,
    *,
    kind: str = "command",
    correlation_id: str | None = None,
) -> dict[str, Any]:
    return {
        "message_id": message_id,
        "kind": kind,
        "topic": "fsm.commands",
        "msg_key": "k",
        "payload": b"{}",
        "headers": {},
        "correlation_id": correlation_id,
        "created_at": created,
        "sent_at": sent,
    }


def _dead_letter(dl_id: str, created: datetime, status: str) -> dict[str, Any]:
    return {
        "id": dl_id,
        "source_topic": "csm.events",
        "partition": 0,
        "offset": 1,
        "stage": "decode",
        "reason_code": "bad_json",
        "error_class": "DecodeError",
        "detail": "x",
        "payload": b"x",
        "replay_count": 0,
        "status": status,
        "created_at": created,
    }


def _link(kind: str, from_id: str, created: datetime) -> dict[str, Any]:
    return {"kind": kind, "from_id": from_id, "to_id": "t" * 32, "attrs": {}, "created_at": created}


async def _seed(engine: AsyncEngine, now: datetime = NOW) -> None:
    """Rows of every kind, some past their window at ``now`` (the CLI's tests: the real clock)."""
    old = now - timedelta(days=400)  # past every window
    recent = now - timedelta(hours=1)  # inside every window
    async with engine.begin() as conn:
        # In time order, as the bridge writes them (SQLite reads them back in that order).
        await conn.execute(
            insert(processed_events),
            [
                *(_processed(i, old) for i in range(5)),  # old changes: go
                _processed(6, old, "create_work_order"),  # an old press: goes (400 days > 30)
                _processed(7, now - timedelta(days=20), "create_work_order"),  # kept: actions' window
                _processed(8, now - timedelta(days=20)),  # a change as old: goes (20 > 14)
                _processed(5, recent),  # kept
            ],
        )
        await conn.execute(
            insert(outbox),
            [
                _outbox("sent-old", old, old),  # goes
                _outbox("sent-recent", old, recent),  # sent lately: kept
                _outbox("unsent-old", old, None),  # never sent (pending or refused): kept
                _outbox("insert-20d", old, now - timedelta(days=20), correlation_id="case:1:wo:0"),
                _outbox("insert-old", old, old, correlation_id="case:2:wo:0"),  # goes
                _outbox("dlq-retried", old, old, kind="dead_letter"),  # goes with its dead letter
                _outbox("dlq-new", old, old, kind="dead_letter"),  # its dead letter stays: kept
                _outbox("dlq-retried-unsent", old, None, kind="dead_letter"),  # unsent: both kept
            ],
        )
        await conn.execute(
            insert(dead_letters),
            [
                _dead_letter("retried", old, "retried"),  # goes
                _dead_letter("new", old, "new"),  # unhandled: kept
                _dead_letter("quarantined", old, "quarantined"),  # never got through: kept
                _dead_letter("retried-recent", recent, "retried"),  # kept
                _dead_letter("retried-unsent", old, "retried"),  # its DLQ message not out: kept
            ],
        )
        await conn.execute(
            insert(links),
            [
                _link(ROUTING_LOG_KIND, "r-old", old),
                _link(ROUTING_LOG_KIND, "r-old-2", old),
                _link(ROUTING_LOG_KIND, "r-recent", recent),
                _link("case_work_order", "c" * 32, old),  # the bridge's state: never pruned
            ],
        )


async def _column(engine: AsyncEngine, column: Any) -> list[Any]:
    async with engine.connect() as conn:
        return sorted((await conn.execute(select(column))).scalars())


async def test_a_pass_prunes_what_is_past_its_window_and_nothing_else(any_store: AsyncEngine) -> None:
    await _seed(any_store)
    settings = RetentionSettings(step_rows=2)
    async with any_store.connect() as conn:
        preview = await run_sqlalchemy(conn, preview_plan(settings, NOW))
    steps: list[tuple[str, int]] = []
    deleted = await Pruner(batch_store_of(any_store), settings).prune(
        now=NOW, on_step=lambda name, n: steps.append((name, n))
    )

    expected = {
        "processed_events": 6,
        "action_keys": 1,
        "sent_commands": 1,
        "pending_inserts": 1,
        "dead_letters": 1,
        "routing_log": 2,
    }
    assert deleted == expected
    assert {p["target"]: p["prunable"] for p in preview} == expected  # the preview said so
    # bounded steps: never more than step_rows at once; a target ends on a short step
    assert max(n for _, n in steps) == 2
    # (on SQLite a step reads step_rows rows in rowid order: presses among them are not its own)
    changes = [n for name, n in steps if name == "processed_events"]
    assert len(changes) >= 4 and changes[-1] == 0
    assert await _column(any_store, processed_events.c.event_id) == ["e-5", "e-7"]
    assert await _column(any_store, outbox.c.message_id) == [
        "dlq-new",
        "dlq-retried-unsent",
        "insert-20d",
        "sent-recent",
        "unsent-old",
    ]
    assert await _column(any_store, dead_letters.c.id) == ["new", "quarantined", "retried-recent", "retried-unsent"]
    assert await _column(any_store, links.c.from_id) == sorted(["c" * 32, "r-recent"])
    # a second pass finds nothing
    assert set((await Pruner(batch_store_of(any_store), settings).prune(now=NOW)).values()) == {0}


async def test_a_redelivered_change_whose_key_was_pruned_is_stale_and_a_press_is_still_a_duplicate(
    any_store: AsyncEngine,
) -> None:
    """The stale guard covers a change once its key is gone; an action is never stale, so its
    key has a longer window of its own and stops the redelivered press."""
    harness = Harness(any_store)
    case = make_event("csm-case-insert")
    press = make_event("csm-case-action-create-work-order", sys_id=case["sys_id"], sys_mod_count=0)
    first = await harness.feed(case, press)
    assert [outcome for _, outcome in first.events] == ["applied", "applied"]
    sent = len(harness.commands(first))
    assert sent >= 1  # the work order's insert

    # Much later: every change key is past its window, the press's key is not.
    later = datetime.now(timezone.utc) + timedelta(days=20)
    deleted = await Pruner(harness.store, RetentionSettings()).prune(now=later)
    assert deleted["processed_events"] == 1 and deleted["action_keys"] == 0

    again = await harness.feed(case, press)  # a redelivery of both
    assert [outcome for _, outcome in again.events] == ["stale", "duplicate"]
    assert harness.commands(again) == []
    async with any_store.connect() as conn:
        kept = (
            await conn.execute(select(records.c.sys_mod_count).where(records.c.sys_id == case["sys_id"]))
        ).scalar_one()
    assert kept == 0  # the record (the guard's memory) is never pruned


async def test_the_bridge_prunes_in_the_background_until_it_stops(store_engine: AsyncEngine) -> None:
    await _seed(store_engine)
    stopping = asyncio.Event()
    settings = RetentionSettings(interval_s=0.05, step_rows=2, step_pause_ms=1)
    task = asyncio.create_task(pruning_loop(batch_store_of(store_engine), settings, stopping, clock=lambda: NOW))
    for _ in range(200):  # up to 10 s on a loaded machine
        await asyncio.sleep(0.05)
        if len(await _column(store_engine, links.c.from_id)) == 2:  # the last target's done
            break
    stopping.set()
    await asyncio.wait_for(task, 10)  # ends by itself once told to stop
    assert await _column(store_engine, processed_events.c.event_id) == ["e-5", "e-7"]
    assert await _column(store_engine, dead_letters.c.id) == ["new", "quarantined", "retried-recent", "retried-unsent"]
    assert await _column(store_engine, links.c.from_id) == sorted(["c" * 32, "r-recent"])


async def test_retention_off_leaves_the_store_alone(store_engine: AsyncEngine) -> None:
    await _seed(store_engine)
    stopping = asyncio.Event()
    await asyncio.wait_for(
        pruning_loop(batch_store_of(store_engine), RetentionSettings(enabled=False, interval_s=0.01), stopping), 5
    )
    async with store_engine.connect() as conn:
        assert (await conn.execute(select(func.count()).select_from(processed_events))).scalar_one() == 9


def test_the_routing_log_kind_is_the_one_the_flows_write() -> None:
    assert routing_log.KIND == ROUTING_LOG_KIND
    assert {t.name for t in TARGETS} == {
        "processed_events",
        "action_keys",
        "sent_commands",
        "pending_inserts",
        "dead_letters",
        "routing_log",
    }


# -- the CLI ---------------------------------------------------------------------------------


def _cli(url: str, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "BRIDGE_STORE__URL": url, "PYTHONPATH": str(ROOT)}
    return subprocess.run(
        [sys.executable, "-m", "cli", "db", *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120
    )


async def _count(engine: AsyncEngine, table: Any) -> int:
    async with engine.connect() as conn:
        return int((await conn.execute(select(func.count()).select_from(table))).scalar_one())


async def test_db_prune_previews_by_default_and_deletes_with_execute(store_url: str, store_engine: AsyncEngine) -> None:
    await _seed(store_engine, datetime.now(timezone.utc))  # the CLI prunes at the real time
    preview = await asyncio.to_thread(_cli, store_url, "prune", "--json")
    assert preview.returncode == 0, preview.stderr
    data = json.loads(preview.stdout)
    assert data["executed"] is False
    assert {t["target"]: t["prunable"] for t in data["targets"]}["routing_log"] == 2
    assert await _count(store_engine, processed_events) == 9  # nothing deleted

    done = await asyncio.to_thread(_cli, store_url, "prune", "--execute", "--json")
    assert done.returncode == 0, done.stderr
    by_target = {t["target"]: t for t in json.loads(done.stdout)["targets"]}
    assert by_target["routing_log"]["deleted"] == 2
    assert by_target["dead_letters"]["deleted"] == 1
    assert await _count(store_engine, dead_letters) == 4
    both = await asyncio.to_thread(_cli, store_url, "prune", "--dry-run", "--execute")
    assert both.returncode == 2


async def test_db_current_history_and_backup(store_url: str, store_engine: AsyncEngine, tmp_path: Path) -> None:
    await _seed(store_engine)
    current = await asyncio.to_thread(_cli, store_url, "current", "--json")
    assert current.returncode == 0, current.stderr
    assert json.loads(current.stdout) == {"current": "0007", "head": "0007", "up_to_date": True}
    history = await asyncio.to_thread(_cli, store_url, "history", "--json")
    revisions = json.loads(history.stdout)
    assert [r["revision"] for r in revisions][:2] == ["0007", "0006"]
    assert [r["revision"] for r in revisions if r["current"]] == ["0007"]

    copy = tmp_path / "copy.db"
    backup = await asyncio.to_thread(_cli, store_url, "backup", str(copy))
    assert backup.returncode == 0, backup.stderr
    with sqlite3.connect(copy) as conn:  # a database of its own, with the store's rows
        assert conn.execute("SELECT count(*) FROM processed_events").fetchone() == (9,)
        assert conn.execute("PRAGMA integrity_check").fetchone() == ("ok",)
    again = await asyncio.to_thread(_cli, store_url, "backup", str(copy))
    assert again.returncode == 1 and "exists" in again.stderr

    missing = f"sqlite+aiosqlite:///{tmp_path}/missing.db"
    for command in (("current",), ("prune",)):
        result = await asyncio.to_thread(_cli, missing, *command)
        assert result.returncode == 1 and "bridge db upgrade" in result.stderr
    assert not (tmp_path / "missing.db").exists()  # read-only commands create no store


async def test_db_backup_of_postgres_points_to_pg_dump(postgres_database: str) -> None:
    result = await asyncio.to_thread(_cli, postgres_database, "backup", "/tmp/never-written.db")
    assert result.returncode == 1
    assert "pg_dump" in result.stderr and len(result.stderr.strip().splitlines()) == 1
    assert not Path("/tmp/never-written.db").exists()


async def test_the_age_indexes_exist_where_pruning_uses_them(any_store: AsyncEngine) -> None:
    """PostgreSQL finds old processed events through an index; SQLite reads them in rowid
    order and saves every event that index's cost. The routing log's is partial on both."""
    async with any_store.connect() as conn:
        indexes = await conn.run_sync(
            lambda sync: {
                table: {i["name"] for i in inspect(sync).get_indexes(table)} for table in ("processed_events", "links")
            }
        )
    on_postgres = any_store.dialect.name == "postgresql"
    assert ("ix_processed_events_age" in indexes["processed_events"]) is on_postgres
    assert "ix_links_routing_age" in indexes["links"]


async def test_db_current_says_when_the_store_is_behind(tmp_path: Path) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path}/old.db"
    await upgrade(url, "0006")
    result = await asyncio.to_thread(_cli, url, "current", "--json")
    assert result.returncode == 1
    assert json.loads(result.stdout) == {"current": "0006", "head": "0007", "up_to_date": False}


async def test_db_backup_completes_while_the_store_is_being_written(store_url: str, tmp_path: Path) -> None:
    """Another connection commits all along (as the running bridge does): the backup still ends
    with a consistent copy of one moment."""
    import threading

    path = store_url.split("///", 1)[1]
    stop = threading.Event()

    def write() -> None:
        conn = sqlite3.connect(path, timeout=10, isolation_level=None)
        conn.execute("PRAGMA journal_mode=WAL")
        i = 0
        while not stop.is_set():
            conn.execute("INSERT INTO counters (name, value) VALUES (?, 1)", (f"n{i}",))
            i += 1
            stop.wait(0.002)
        conn.close()

    writer = threading.Thread(target=write)
    writer.start()
    try:
        copy = tmp_path / "copy.db"
        result = await asyncio.to_thread(_cli, store_url, "backup", str(copy))
    finally:
        stop.set()
        writer.join()
    assert result.returncode == 0, result.stderr
    with sqlite3.connect(copy) as conn:
        assert conn.execute("PRAGMA integrity_check").fetchone() == ("ok",)
        copied = conn.execute("SELECT count(*) FROM counters").fetchone()[0]
    with sqlite3.connect(path) as conn:
        written = conn.execute("SELECT count(*) FROM counters").fetchone()[0]
    assert written > 0 and copied <= written  # the copy is of a moment while it was written
