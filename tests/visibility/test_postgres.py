"""The index and the portal on PostgreSQL, owned by an ordinary (non-superuser) role, with
the portal's reads under the row-level-security role as a second wall."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass

import asyncpg
import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pydantic import SecretStr
from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncEngine

from bridge.portal import PortalServer, create_portal_app
from bridge.store.engine import create_engine
from bridge.store.schema import metadata
from bridge.visibility import as_portal_user, check, install_rls, rebuild, visible_work_orders
from tests.fixtures.postgres import fresh_database
from tests.visibility.harness import Event, Store
from tests.visibility.test_portal_http import AUTH, TOKEN, populate
from tests.visibility.test_property import USERS, assert_matches_oracle_and_rebuild, deliver_in_random_order, landscapes
from tests.visibility.test_rules import numbers_seen


@dataclass
class Postgres:
    owner: AsyncEngine  # the bridge's writer: owns the tables, not a superuser


@pytest.fixture(scope="module")
async def pg(postgres_url: str) -> AsyncIterator[Postgres]:
    owner_role = f"bridge_app_{uuid.uuid4().hex[:8]}"
    server = make_url(postgres_url)
    admin = await asyncpg.connect(host=server.host, port=server.port, user=server.username,
                                  password=server.password, database=server.database or "postgres")
    await admin.execute(f"CREATE ROLE {owner_role} LOGIN CREATEROLE PASSWORD 'owner-pw'")
    try:
        async with fresh_database(postgres_url) as url:
            db = make_url(url)
            await admin.execute(f'ALTER DATABASE "{db.database}" OWNER TO {owner_role}')
            # PostgreSQL 15+: the database owner owns schema public (pg_database_owner).
            owner = create_engine(db.set(username=owner_role, password="owner-pw").render_as_string(hide_password=False))
            async with owner.begin() as conn:
                await conn.run_sync(metadata.create_all)
                await install_rls(conn)
                await install_rls(conn)  # idempotent
            yield Postgres(owner)
            await owner.dispose()
    finally:
        await admin.execute(f"DROP ROLE IF EXISTS {owner_role}")
        await admin.close()


@pytest.fixture
async def pg_store(pg: Postgres) -> Store:
    store = Store(pg.owner)
    await store.reset()
    return store


async def test_index_rules_check_and_rebuild_on_postgres(pg_store: Store) -> None:
    land = await populate(pg_store)
    assert await numbers_seen(pg_store.engine, land.admin) == {f"WO001000{i}" for i in range(5)}
    async with pg_store.engine.begin() as conn:
        await rebuild(conn)
        assert await check(conn) == []


async def test_portal_over_http_on_postgres(pg_store: Store) -> None:
    land = await populate(pg_store)
    app = create_portal_app(pg_store.engine, SecretStr(TOKEN))
    async with PortalServer(app) as server, httpx.AsyncClient(base_url=server.base_url) as client:
        listed = await client.get("/portal/v1/work-orders", params={"user": land.admin, "limit": "3"}, headers=AUTH)
        assert [row["sys_id"] for row in listed.json()["result"]] == land.work_orders[:3]
        assert listed.json()["result"][0]["account"] == {"sys_id": land.account, "name": "Acme Corp"}
        detail = await client.get(f"/portal/v1/work-orders/{land.work_orders[0]}", params={"user": land.admin}, headers=AUTH)
        assert [task["sys_id"] for task in detail.json()["result"]["tasks"]] == land.tasks
        hidden = await client.get(f"/portal/v1/work-orders/{land.hidden}", params={"user": land.admin}, headers=AUTH)
        missing = await client.get(f"/portal/v1/work-orders/{'0' * 32}", params={"user": land.admin}, headers=AUTH)
        assert (hidden.status_code, hidden.content) == (missing.status_code, missing.content) == (404, missing.content)


async def test_portal_transactions_run_as_the_rls_role(pg_store: Store) -> None:
    async with pg_store.engine.connect() as conn, conn.begin():
        await as_portal_user(conn, "a" * 32)
        assert (await conn.execute(text("SELECT current_user"))).scalar_one() == "bridge_portal"
    async with pg_store.engine.connect() as conn:  # SET LOCAL ends with the transaction
        assert (await conn.execute(text("SELECT current_user"))).scalar_one().startswith("bridge_app_")


async def test_rls_role_reads_only_the_users_rows_even_with_a_hand_written_query(pg_store: Store) -> None:
    land = await populate(pg_store)

    async def as_user(user: str | None, sql: str) -> list[tuple]:
        async with pg_store.engine.connect() as conn, conn.begin():
            if user is None:
                await conn.execute(text("SET LOCAL ROLE bridge_portal"))
            else:
                await as_portal_user(conn, user)
            return [tuple(row) for row in await conn.execute(text(sql))]

    wo_ids = {row[0] for row in await as_user(land.admin, "SELECT sys_id FROM vis_work_orders")}
    assert wo_ids == set(land.work_orders)
    assert {row[0] for row in await as_user(land.outsider, "SELECT sys_id FROM vis_work_orders")} == {land.hidden}
    assert {row[0] for row in await as_user(land.admin, "SELECT user_id FROM vis_user_scope")} == {land.admin}
    assert {row[0] for row in await as_user(land.outsider, "SELECT sys_id FROM vis_accounts")} == {
        row[0] for row in await as_user(land.outsider, "SELECT account FROM vis_work_orders")
    }
    assert await as_user(land.outsider, "SELECT sys_id FROM vis_tasks") == []
    assert await as_user(land.outsider, "SELECT sys_id FROM vis_cases") == []
    assert await as_user(None, "SELECT sys_id FROM vis_work_orders") == []  # no user named: nothing
    assert await as_user("f" * 32, "SELECT count(*) FROM vis_work_orders") == [(0,)]
    for table in ("vis_users", "vis_contact_relationships", "vis_account_relationships", "records"):
        with pytest.raises(DBAPIError, match="permission denied"):
            await as_user(land.admin, f"SELECT * FROM {table}")
    # The same query function the portal uses, still filtered by the database when asked for
    # another user's list while the session names this user.
    async with pg_store.engine.connect() as conn, conn.begin():
        await as_portal_user(conn, land.outsider)
        page = await visible_work_orders(conn, land.admin)
    assert page.rows == []


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(events=landscapes(), data=st.data())
async def test_random_landscapes_on_postgres_and_behind_rls(pg_store: Store, events: list[Event], data) -> None:
    """The property test on PostgreSQL; and under the RLS role, a bare ``SELECT`` of the work
    orders returns exactly what the contract grants."""
    await deliver_in_random_order(pg_store, events, data)
    expected = await assert_matches_oracle_and_rebuild(pg_store)
    for user in USERS:
        async with pg_store.engine.connect() as conn, conn.begin():
            await as_portal_user(conn, user)
            rows = await conn.execute(text("SELECT sys_id FROM vis_work_orders"))
            assert {row.sys_id for row in rows} == expected[user], user
