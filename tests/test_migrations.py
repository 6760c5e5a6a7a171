"""The Alembic migrations build exactly the schema the code declares, on SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
from datetime import datetime, timezone

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import column, inspect, select, table
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncEngine

from bridge.store.engine import create_engine
from bridge.store.migrate import alembic_config, upgrade
from bridge.store.schema import metadata, processed_events


async def _drift(engine: AsyncEngine) -> list[object]:
    async with engine.connect() as conn:
        return await conn.run_sync(
            lambda sync: compare_metadata(MigrationContext.configure(sync), metadata))


async def test_sqlite_store_at_head_matches_the_models(store_engine: AsyncEngine) -> None:
    assert await _drift(store_engine) == []


async def test_upgrade_is_idempotent_and_postgres_matches_the_models(postgres_database: str) -> None:
    await upgrade(postgres_database)
    await upgrade(postgres_database)  # a second start changes nothing
    engine = create_engine(postgres_database)
    try:
        assert await _drift(engine) == []
    finally:
        await engine.dispose()


async def test_instances_starting_together_migrate_and_install_rls_one_at_a_time(
        postgres_database: str) -> None:
    """Three instances start at once: each migrates (its own process, as a real instance does)
    and installs the portal's row-level security, without tripping over the others."""
    import asyncio
    import os
    import sys

    from bridge.visibility import install_rls

    env = {**os.environ, "BRIDGE_STORE__URL": postgres_database}
    processes = [await asyncio.create_subprocess_exec(
        sys.executable, "-m", "cli", "db", "upgrade", env=env,
        stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.DEVNULL) for _ in range(3)]
    assert [await asyncio.wait_for(p.wait(), 60) for p in processes] == [0, 0, 0]
    engines = [create_engine(postgres_database) for _ in range(3)]
    try:
        async def install(engine: AsyncEngine) -> None:
            async with engine.begin() as conn:
                await install_rls(conn, "bridge_portal")

        await asyncio.wait_for(asyncio.gather(*(install(e) for e in engines)), 60)
        assert await _drift(engines[0]) == []
    finally:
        for engine in engines:
            await engine.dispose()


#: processed_events as migration 0003 left it (the models describe head).
_PROCESSED_0003 = table("processed_events", *(column(name) for name in (
    "event_id", "source", "table_name", "sys_id", "sys_mod_count", "operation", "action",
    "outcome", "detail", "mapping_version", "topic", "partition", "offset", "processed_at")))


def _processed_rows(n: int, operation: str = "update", action: str = "") -> list[dict[str, object]]:
    now = datetime(2026, 12, 1, tzinfo=timezone.utc)
    return [{"event_id": f"event-{i}", "source": "csm", "table_name": "sn_customerservice_case",
             "sys_id": f"{i:032x}", "sys_mod_count": i, "operation": operation, "action": action,
             "outcome": "applied", "detail": None, "mapping_version": "1", "topic": "csm.events",
             "partition": 0, "offset": i, "processed_at": now} for i in range(n)]


async def test_the_dedupe_key_becomes_the_primary_key_and_no_processed_event_is_lost(
        any_store_url: str) -> None:
    """0004 on a store that already holds processed events: every row survives, the version is
    the primary key, the event id is no longer unique (nor indexed), and a second row of a
    version already there is still refused."""
    await upgrade(any_store_url, "0003")
    engine = create_engine(any_store_url)
    rows = _processed_rows(3)
    try:
        async with engine.begin() as conn:
            await conn.execute(_PROCESSED_0003.insert(), rows)
        await upgrade(any_store_url, "0004")
        async with engine.connect() as conn:
            key = await conn.run_sync(lambda sync: inspect(sync).get_pk_constraint("processed_events"))
            uniques = await conn.run_sync(lambda sync: inspect(sync).get_unique_constraints("processed_events"))
            indexes = await conn.run_sync(lambda sync: inspect(sync).get_indexes("processed_events"))
            kept = (await conn.execute(select(_PROCESSED_0003.c.event_id, _PROCESSED_0003.c.sys_id)
                                       .order_by(_PROCESSED_0003.c.offset))).all()
        assert key["constrained_columns"] == ["sys_id", "sys_mod_count", "operation", "action"]
        assert uniques == [] and indexes == []
        assert kept == [(r["event_id"], r["sys_id"]) for r in rows]
        with pytest.raises(IntegrityError):
            async with engine.begin() as conn:
                await conn.execute(_PROCESSED_0003.insert(), [{**rows[0], "event_id": "other"}])
    finally:
        await engine.dispose()


async def test_each_stored_press_keeps_its_key_and_a_second_press_fits(any_store_url: str) -> None:
    """0005 on a store with processed actions and changes: the actions' key gains their own
    event id (a replay of one after the upgrade is still a duplicate), the changes' an empty
    one; a second press on the same version is then accepted, a second copy of a change not."""
    await upgrade(any_store_url, "0004")
    engine = create_engine(any_store_url)
    presses = _processed_rows(2, "action", "create_request")
    changes = [{**r, "event_id": f"change-{i}"} for i, r in enumerate(_processed_rows(2))]
    try:
        async with engine.begin() as conn:
            await conn.execute(_PROCESSED_0003.insert(), [*presses, *changes])
        await upgrade(any_store_url)
        async with engine.connect() as conn:
            key = await conn.run_sync(lambda sync: inspect(sync).get_pk_constraint("processed_events"))
            stored = dict((await conn.execute(select(processed_events.c.event_id,
                                                     processed_events.c.press_id))).all())
        assert key["constrained_columns"] == ["sys_id", "sys_mod_count", "operation", "action",
                                              "press_id"]
        assert stored == {"event-0": "event-0", "event-1": "event-1",
                          "change-0": "", "change-1": ""}
        async with engine.begin() as conn:
            await conn.execute(processed_events.insert(),
                               [{**presses[0], "event_id": "press-2", "press_id": "press-2"}])
        with pytest.raises(IntegrityError):
            async with engine.begin() as conn:
                await conn.execute(processed_events.insert(), [{**changes[0], "event_id": "copy"}])
        # and back: of the presses on one version, the first stays
        await asyncio.to_thread(command.downgrade, alembic_config(any_store_url), "0004")
        async with engine.connect() as conn:
            left = sorted(r[0] for r in await conn.execute(select(_PROCESSED_0003.c.event_id)))
        assert left == ["change-0", "change-1", "event-0", "event-1"]
    finally:
        await engine.dispose()
