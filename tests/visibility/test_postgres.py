"""The index and the portal on PostgreSQL, owned by an ordinary (non-superuser) role, with
the portal's reads under the row-level-security role as a second wall."""

from __future__ import annotations

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pydantic import SecretStr
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from bridge.portal import PortalServer, create_portal_app
from bridge.visibility import as_portal_user, case_related_records, check, rebuild, visible_work_orders
from tests.visibility.harness import Event, Store, new_id
from tests.visibility.test_portal_http import AUTH, TOKEN, populate
from tests.visibility.test_property import (
    USERS,
    assert_matches_oracle_and_rebuild,
    deliver_in_random_order,
    landscapes,
    related_oracle,
    value,
)
from tests.visibility.test_related_records import scene
from tests.visibility.test_rules import numbers_seen


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
        detail = await client.get(
            f"/portal/v1/work-orders/{land.work_orders[0]}", params={"user": land.admin}, headers=AUTH
        )
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


async def rows_as(store: Store, user: str | None, sql: str) -> set[tuple]:
    """A hand-written query under the portal role, naming ``user`` (or nobody)."""
    async with store.engine.connect() as conn, conn.begin():
        if user is None:
            await conn.execute(text("SET LOCAL ROLE bridge_portal"))
        else:
            await as_portal_user(conn, user)
        return {tuple(row) for row in await conn.execute(text(sql))}


async def test_rls_lets_through_only_the_related_records_of_cases_visible_by_their_own_columns(pg_store: Store) -> None:
    """Queries that forget the user filter: a case is readable when visible by its own columns
    or named by a visible work order (the list shows its number), but ITSM records only when
    they belong to a case visible by its own columns."""
    s = await scene(pg_store)
    wo = new_id()  # Acme's work order naming Other's case
    await pg_store.deliver(s.ev.work_order(wo, "WO1", account=s.acme, initiated_from=s.other_case))

    mine = {s.incident, s.problem, s.change, *s.requests}
    assert await rows_as(pg_store, s.admin, "SELECT sys_id FROM vis_itsm_records") == {(i,) for i in mine}
    assert await rows_as(pg_store, s.admin, "SELECT sys_id FROM vis_cases") == {(s.case,), (s.other_case,)}
    assert await rows_as(pg_store, s.outsider, "SELECT sys_id FROM vis_itsm_records") == {(s.other_request,)}
    assert await rows_as(pg_store, s.outsider, "SELECT sys_id FROM vis_cases") == {(s.other_case,)}
    # Other's case is readable to the admin through the work order, its request is not.
    assert await rows_as(
        pg_store,
        s.admin,
        f"""
        SELECT c.number, r.sys_id FROM vis_cases c LEFT JOIN vis_itsm_records r ON r.parent_case = c.sys_id
        WHERE c.sys_id = '{s.other_case}'""",
    ) == {("CS0002001", None)}
    assert (
        await rows_as(pg_store, s.admin, f"SELECT sys_id FROM vis_itsm_records WHERE sys_id = '{s.caused_by}'") == set()
    )
    for user in (None, "f" * 32):  # nobody named, or nobody known: nothing
        assert await rows_as(pg_store, user, "SELECT sys_id FROM vis_itsm_records") == set()
        assert await rows_as(pg_store, user, "SELECT sys_id FROM vis_cases") == set()
    # The portal's own query, asked about the admin's case while the session names the outsider.
    async with pg_store.engine.connect() as conn, conn.begin():
        await as_portal_user(conn, s.outsider)
        assert await case_related_records(conn, s.admin, s.case) is None
    # A change shows under the role at once: the case moves to Other.
    await pg_store.deliver(s.ev.case(s.case, "CS0001001", account=s.other, incident=s.incident))
    assert await rows_as(pg_store, s.admin, "SELECT sys_id FROM vis_itsm_records") == set()
    assert await rows_as(pg_store, s.outsider, "SELECT sys_id FROM vis_itsm_records") == {
        (s.incident,),
        (s.other_request,),
        *((r,) for r in s.requests),
    }


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow]
)
@given(dense=st.booleans(), data=st.data())
async def test_random_landscapes_on_postgres_and_behind_rls(pg_store: Store, dense: bool, data) -> None:
    """The property test on PostgreSQL; and under the RLS role, a bare ``SELECT`` of the work
    orders returns exactly what the contract grants, of the ITSM records exactly the related
    records of the cases it grants (on their own columns), and of the cases those cases and
    the ones visible work orders name."""
    events: list[Event] = data.draw(landscapes(dense=dense))
    await deliver_in_random_order(pg_store, events, data)
    expected = await assert_matches_oracle_and_rebuild(pg_store)
    live = pg_store.live()
    listed = related_oracle(live)
    for user in USERS:
        named_by_work_orders = {value(live[wo][1], "initiated_from") for wo in expected[user]}
        async with pg_store.engine.connect() as conn, conn.begin():
            await as_portal_user(conn, user)
            rows = await conn.execute(text("SELECT sys_id FROM vis_work_orders"))
            assert {row.sys_id for row in rows} == expected[user], user
            rows = await conn.execute(text("SELECT sys_id FROM vis_itsm_records"))
            assert {row.sys_id for row in rows} == {i for ids in listed[user].values() for i in ids}, user
            rows = await conn.execute(text("SELECT sys_id FROM vis_cases"))
            assert {row.sys_id for row in rows} == listed[user].keys() | (named_by_work_orders & live.keys()), user
