"""The Alembic migrations build exactly the schema the code declares, on SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
from datetime import datetime, timezone

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import column, inspect, select, table, text
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncEngine

from bridge.store.engine import create_engine
from bridge.store.metadata import include_object
from bridge.store.migrate import alembic_config, upgrade
from bridge.store.schema import processed_events, records
from bridge.tables import metadata


async def _drift(engine: AsyncEngine) -> list[object]:
    async with engine.connect() as conn:
        return await conn.run_sync(
            lambda sync: compare_metadata(
                MigrationContext.configure(sync, opts={"include_object": include_object(sync.dialect.name)}), metadata
            )
        )


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


async def test_instances_starting_together_migrate_and_install_rls_one_at_a_time(postgres_database: str) -> None:
    """Three instances start at once: each migrates (its own process, as a real instance does)
    and installs the portal's row-level security, without tripping over the others."""
    import asyncio
    import os
    import sys

    from bridge.visibility import install_rls

    env = {**os.environ, "BRIDGE_STORE__URL": postgres_database}
    processes = [
        await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "cli",
            "db",
            "upgrade",
            env=env,
            stdout=asyncio.subprocess.DEVNULL,
            stderr=asyncio.subprocess.DEVNULL,
        )
        for _ in range(3)
    ]
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
_PROCESSED_0003 = table(
    "processed_events",
    *(
        column(name)
        for name in (
            "event_id",
            "source",
            "table_name",
            "sys_id",
            "sys_mod_count",
            "operation",
            "action",
            "outcome",
            "detail",
            "mapping_version",
            "topic",
            "partition",
            "offset",
            "processed_at",
        )
    ),
)


def _processed_rows(n: int, operation: str = "update", action: str = "") -> list[dict[str, object]]:
    now = datetime(2026, 12, 1, tzinfo=timezone.utc)
    return [
        {
            "event_id": f"event-{i}",
            "source": "csm",
            "table_name": "sn_customerservice_case",
            "sys_id": f"{i:032x}",
            "sys_mod_count": i,
            "operation": operation,
            "action": action,
            "outcome": "applied",
            "detail": None,
            "mapping_version": "1",
            "topic": "csm.events",
            "partition": 0,
            "offset": i,
            "processed_at": now,
        }
        for i in range(n)
    ]


async def test_the_dedupe_key_becomes_the_primary_key_and_no_processed_event_is_lost(any_store_url: str) -> None:
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
            kept = (
                await conn.execute(
                    select(_PROCESSED_0003.c.event_id, _PROCESSED_0003.c.sys_id).order_by(_PROCESSED_0003.c.offset)
                )
            ).all()
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
            stored = dict((await conn.execute(select(processed_events.c.event_id, processed_events.c.press_id))).all())
        assert key["constrained_columns"] == ["sys_id", "sys_mod_count", "operation", "action", "press_id"]
        assert stored == {"event-0": "event-0", "event-1": "event-1", "change-0": "", "change-1": ""}
        async with engine.begin() as conn:
            await conn.execute(
                processed_events.insert(), [{**presses[0], "event_id": "press-2", "press_id": "press-2"}]
            )
        with pytest.raises(IntegrityError):
            async with engine.begin() as conn:
                await conn.execute(processed_events.insert(), [{**changes[0], "event_id": "copy"}])
        # and back: of the presses on one version, the first stays
        await _downgrade(any_store_url, "0004")
        async with engine.connect() as conn:
            left = sorted(r[0] for r in await conn.execute(select(_PROCESSED_0003.c.event_id)))
        assert left == ["change-0", "change-1", "event-0", "event-1"]
    finally:
        await engine.dispose()


async def _downgrade(url: str, revision: str) -> None:
    await asyncio.to_thread(command.downgrade, alembic_config(url), revision)


def _ref(sys_id: str) -> dict[str, str]:
    return {"value": sys_id, "display_value": "shown"}


async def test_0006_fills_the_related_records_index_from_the_records_and_downgrades(any_store_url: str) -> None:
    """0006 on a store that already holds cases and ITSM records: the cases' new columns and
    the ITSM rows are filled from ``records`` (``check`` finds the index whole, a case the old
    index lacked included); on PostgreSQL with the portal's RLS installed it downgrades too
    (the cases' policy reads the columns it drops), and upgrades again."""
    from bridge.visibility import check, install_rls
    from bridge.visibility.schema import vis_cases, vis_itsm_records

    await upgrade(any_store_url, "0005")
    engine = create_engine(any_store_url)
    now = datetime(2026, 12, 4, tzinfo=timezone.utc)
    ids = {
        name: f"{i + 1:032x}"
        for i, name in enumerate(
            (
                "case",
                "order_case",
                "unindexed_case",
                "contact",
                "incident",
                "problem",
                "change",
                "request",
                "gone",
                "ci",
            )
        )
    }
    stored = {
        "case": (
            "sn_customerservice_case",
            {
                "number": "CS1",
                "contact": _ref(ids["contact"]),
                "incident": _ref(ids["incident"]),
                "problem": _ref(ids["problem"]),
                "change": _ref(ids["change"]),
                "caused_by": "",
            },
        ),
        "order_case": ("sn_order_case", {"number": "ORDCS1", "account": _ref(ids["contact"])}),
        "unindexed_case": ("sn_customerservice_case", {"number": "CS2"}),
        "incident": ("incident", {"number": "INC1", "state": "2", "short_description": "Down"}),
        "problem": ("problem", {"number": "PRB1", "state": "101", "short_description": "Why"}),
        "change": ("change_request", {"number": "CHG1", "state": "-5", "short_description": "Fix"}),
        "request": (
            "sc_request",
            {
                "number": "REQ1",
                "request_state": "in_process",
                "short_description": "Toner",
                "parent": _ref(ids["case"]),
            },
        ),
        "gone": ("incident", {"number": "INC2", "state": "7", "short_description": "Deleted"}),
        "ci": ("cmdb_ci", {"name": "Printer"}),
    }
    try:
        async with engine.begin() as conn:
            await conn.execute(
                records.insert(),
                [
                    {
                        "sys_id": ids[name],
                        "source": "itsm",
                        "table_name": table,
                        "number": data.get("number"),
                        "sys_mod_count": 1,
                        "deleted": name == "gone",
                        "data": data,
                        "updated_at": now,
                    }
                    for name, (table, data) in stored.items()
                ],
            )
            # The index as 0005 kept it: the cases' numbers (one case missing).
            await conn.execute(vis_cases.insert().values(sys_id=ids["case"], number="CS1"))
            await conn.execute(vis_cases.insert().values(sys_id=ids["order_case"], number="ORDCS1"))
        await upgrade(any_store_url)
        async with engine.begin() as conn:
            assert await check(conn) == []
            itsm = {
                row.sys_id: (row.table_name, row.state, row.parent_case)
                for row in await conn.execute(select(vis_itsm_records))
            }
            case = (await conn.execute(select(vis_cases).where(vis_cases.c.sys_id == ids["case"]))).one()
            numbers = set((await conn.execute(select(vis_cases.c.number))).scalars())
            if conn.dialect.name == "postgresql":
                await install_rls(conn)  # as the bridge's start does
        assert itsm == {
            ids["incident"]: ("incident", "2", None),
            ids["problem"]: ("problem", "101", None),
            ids["change"]: ("change_request", "-5", None),
            ids["request"]: ("sc_request", "in_process", ids["case"]),
        }
        assert (case.contact, case.incident, case.problem, case.change, case.account) == (
            ids["contact"],
            ids["incident"],
            ids["problem"],
            ids["change"],
            None,
        )
        assert numbers == {"CS1", "ORDCS1", "CS2"}
        assert await _drift(engine) == []

        await _downgrade(any_store_url, "0005")
        async with engine.connect() as conn:
            tables = await conn.run_sync(lambda sync: inspect(sync).get_table_names())
            columns = await conn.run_sync(lambda sync: [c["name"] for c in inspect(sync).get_columns("vis_cases")])
            kept = (
                await conn.execute(select(vis_cases.c.sys_id, vis_cases.c.number).order_by(vis_cases.c.sys_id))
            ).all()
            if conn.dialect.name == "postgresql":  # the cases' policy is 0005's again
                policy = (
                    await conn.execute(
                        text(
                            "SELECT qual FROM pg_policies WHERE tablename = 'vis_cases' AND policyname = 'portal_read'"
                        )
                    )
                ).scalar_one()
                assert "vis_work_orders" in policy and "account" not in policy
        assert "vis_itsm_records" not in tables
        assert columns == ["sys_id", "number"]
        assert [number for _, number in kept] == ["CS1", "ORDCS1", "CS2"]

        await upgrade(any_store_url)
        async with engine.begin() as conn:
            if conn.dialect.name == "postgresql":
                await install_rls(conn)
            assert await check(conn) == []
        assert await _drift(engine) == []
    finally:
        await engine.dispose()
