"""The portal's "Related Records" of a case (seed 002) over real HTTP, with the real index
maintenance, on SQLite and on PostgreSQL behind the portal's row-level security.

``GET /portal/v1/cases/<case>/related-records?user=`` lists the incident, problem and change
the case names and the requests whose parent it is; the case is visible by the work-order
rules read on its own columns, and anything else is the work-order detail's 404.
"""

from __future__ import annotations

import itertools
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from pydantic import SecretStr
from sqlalchemy.ext.asyncio import AsyncEngine

from bridge.portal import PortalServer, create_portal_app
from bridge.store.engine import create_engine
from bridge.visibility import check, rebuild
from tests.visibility.conftest import Postgres, new_engine
from tests.visibility.harness import Event, Events, Store, new_id

TOKEN = "s3cret-portal-token"
AUTH = {"Authorization": f"Bearer {TOKEN}"}


@dataclass
class Backend:
    store: Store
    reader: AsyncEngine  # what the portal app reads with


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def postgres(request: pytest.FixtureRequest) -> Postgres | None:
    """The module's PostgreSQL database for the ``postgres`` run (started only if needed)."""
    return request.getfixturevalue("pg") if request.param == "postgres" else None


@pytest.fixture
async def backend(postgres: Postgres | None, migrated_sqlite: Path, tmp_path: Path) -> AsyncIterator[Backend]:
    if postgres is None:
        writer = await new_engine(migrated_sqlite, tmp_path / "store.db")
        reader = create_engine(writer.url.render_as_string(hide_password=False), writer=False)
        yield Backend(Store(writer), reader)
        await reader.dispose()
        await writer.dispose()
    else:  # the bridge's writer, its portal transactions switching to the RLS role
        store = Store(postgres.owner)
        await store.reset()
        yield Backend(store, postgres.owner)


@pytest.fixture
def store(backend: Backend) -> Store:
    return backend.store


@pytest.fixture
async def client(backend: Backend) -> AsyncIterator[httpx.AsyncClient]:
    app = create_portal_app(backend.reader, SecretStr(TOKEN))
    async with PortalServer(app) as server, httpx.AsyncClient(base_url=server.base_url, timeout=10) as client:
        yield client


def path(case: str) -> str:
    return f"/portal/v1/cases/{case}/related-records"


async def related(client: httpx.AsyncClient, case: str, user: str) -> list[str] | None:
    """The listed sys_ids in order, or None for the 404."""
    response = await client.get(path(case), params={"user": user}, headers=AUTH)
    if response.status_code == 404:
        return None
    assert response.status_code == 200, response.text
    return [row["sys_id"] for row in response.json()["result"]]


@dataclass
class Scene:
    ev: Events
    acme: str
    other: str
    admin: str  # customer_admin of Acme
    outsider: str  # customer_admin of Other
    case: str  # Acme's
    incident: str
    problem: str
    change: str
    caused_by: str  # a change the case names as its cause: not listed
    requests: list[str]  # the case's, by number
    other_case: str  # Other's, with a request of its own
    other_request: str


async def scene(store: Store) -> Scene:
    ev = Events()
    ids = [new_id() for _ in range(9)]
    s = Scene(ev, *ids, requests=[new_id(), new_id()], other_case=new_id(), other_request=new_id())
    await store.deliver(
        ev.account(s.acme, "Acme Corp"),
        ev.account(s.other, "Other Inc"),
        ev.contact(s.admin, s.acme, roles="customer_admin"),
        ev.contact(s.outsider, s.other, roles="customer_admin"),
        ev.case(
            s.case,
            "CS0001001",
            account=s.acme,
            incident=s.incident,
            problem=s.problem,
            change=s.change,
            caused_by=s.caused_by,
        ),
        ev.case(s.other_case, "CS0002001", account=s.other),
        # The requests arrive out of number order; one ITSM record of each table.
        ev.itsm("sc_request", s.requests[1], "REQ0010002", "requested", parent=s.case),
        ev.itsm("sc_request", s.requests[0], "REQ0010001", "in_process", parent=s.case),
        ev.itsm("sc_request", s.other_request, "REQ0020001", "requested", parent=s.other_case),
        ev.itsm("change_request", s.change, "CHG0010001", "-1"),
        ev.itsm("change_request", s.caused_by, "CHG0010002", "3"),
        ev.itsm("problem", s.problem, "PRB0010001", "102"),
        ev.itsm("incident", s.incident, "INC0010001", "2"),
    )
    return s


async def test_the_contracts_shape_in_a_fixed_order(store: Store, client: httpx.AsyncClient) -> None:
    s = await scene(store)
    response = await client.get(path(s.case), params={"user": s.admin}, headers=AUTH)
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/json"
    assert response.headers["cache-control"] == "no-store"
    assert response.json() == {
        "result": [
            {
                "sys_id": s.incident,
                "table": "incident",
                "number": "INC0010001",
                "state": "2",
                "short_description": "About INC0010001",
            },
            {
                "sys_id": s.problem,
                "table": "problem",
                "number": "PRB0010001",
                "state": "102",
                "short_description": "About PRB0010001",
            },
            {
                "sys_id": s.change,
                "table": "change_request",
                "number": "CHG0010001",
                "state": "-1",
                "short_description": "About CHG0010001",
            },
            {
                "sys_id": s.requests[0],
                "table": "sc_request",
                "number": "REQ0010001",
                "state": "in_process",
                "short_description": "About REQ0010001",
            },
            {
                "sys_id": s.requests[1],
                "table": "sc_request",
                "number": "REQ0010002",
                "state": "requested",
                "short_description": "About REQ0010002",
            },
        ]
    }
    assert await related(client, s.other_case, s.outsider) == [s.other_request]
    async with store.engine.begin() as conn:
        assert await check(conn) == []


async def test_a_visible_case_without_related_records_is_an_empty_list(store: Store, client: httpx.AsyncClient) -> None:
    ev, acc, user, case = Events(), new_id(), new_id(), new_id()
    await store.deliver(ev.contact(user, acc, roles="customer_admin"), ev.case(case, "CS1", account=acc))
    response = await client.get(path(case), params={"user": user}, headers=AUTH)
    assert (response.status_code, response.json()) == (200, {"result": []})


async def test_order_cases_are_cases(store: Store, client: httpx.AsyncClient) -> None:
    ev, user, case, incident = Events(), new_id(), new_id(), new_id()
    await store.deliver(
        ev.consumer(user),
        ev.case(case, "ORDCS1", "sn_order_case", consumer=user, incident=incident),
        ev.itsm("incident", incident, "INC1"),
    )
    assert await related(client, case, user) == [incident]


async def test_the_404_is_the_work_order_details_404_whatever_the_reason(
    store: Store, client: httpx.AsyncClient
) -> None:
    s = await scene(store)
    wo = new_id()  # a work order of Acme's, naming Other's case: the admin sees the work order only
    await store.deliver(s.ev.work_order(wo, "WO1", account=s.acme, initiated_from=s.other_case))
    assert (await client.get(f"/portal/v1/work-orders/{wo}", params={"user": s.admin}, headers=AUTH)).status_code == 200
    reference = await client.get(f"/portal/v1/work-orders/{new_id()}", params={"user": s.admin}, headers=AUTH)
    answers = [
        await client.get(url, params={"user": s.admin}, headers=AUTH)
        for url in (
            path(s.other_case),  # exists, not visible (even though a visible work order names it)
            path(new_id()),  # does not exist
            path(s.incident),  # an ITSM record is no case
            path("not-a-sys-id"),
            path("A" * 32),
            path("0" * 31),
            path("0" * 33),
            f"/portal/v1/cases/{'0' * 31}%00/related-records",  # a NUL would fail on PostgreSQL
            f"/portal/v1/work-orders/{'0' * 31}%00",  # and the work-order detail, likewise
        )
    ]
    assert [a.status_code for a in answers] == [404] * len(answers)
    assert {a.content for a in answers} == {reference.content}

    def headers(response: httpx.Response) -> list[tuple[str, str]]:
        return sorted((k, v) for k, v in response.headers.items() if k != "date")

    assert {tuple(headers(a)) for a in answers} == {tuple(headers(reference))}
    assert await related(client, s.other_case, s.outsider) == [s.other_request]


@pytest.mark.parametrize(
    "auth", [{}, {"Authorization": "Bearer wrong"}, {"Authorization": TOKEN}, {"Authorization": f"Basic {TOKEN}"}]
)
async def test_requests_without_the_token_are_refused(store: Store, client: httpx.AsyncClient, auth) -> None:
    s = await scene(store)
    for case in (s.case, new_id(), "not-a-sys-id"):  # refused before anything is looked at
        response = await client.get(path(case), params={"user": s.admin}, headers=auth)
        assert response.status_code == 401
        assert response.headers["www-authenticate"] == "Bearer"
        assert "result" not in response.json()


async def test_without_a_configured_token_the_api_is_disabled(backend: Backend) -> None:
    s = await scene(backend.store)
    app = create_portal_app(backend.reader, SecretStr(""))
    async with PortalServer(app) as server, httpx.AsyncClient(base_url=server.base_url) as client:
        for auth in ({"Authorization": "Bearer"}, AUTH, {}):
            assert (await client.get(path(s.case), params={"user": s.admin}, headers=auth)).status_code == 503


@pytest.mark.parametrize("params", [{}, {"user": "ABC"}, {"user": "0" * 31}, {"user": "A" * 32}])
async def test_a_malformed_user_is_400(client: httpx.AsyncClient, params) -> None:
    response = await client.get(path(new_id()), params=params, headers=AUTH)
    assert response.status_code == 400
    assert response.json()["error"]["message"] == "Invalid parameter: user"


# -- who sees a case: the work-order rules, on the case's own columns ------------------------------


@dataclass(frozen=True)
class Rule:
    """A user, the records around them, and a case (with one related incident)."""

    user_is: str  # "contact" | "consumer"
    roles: str
    case_refs: Callable[[dict[str, str]], dict[str, str]]  # names → the case's references
    visible: bool
    extra: Callable[[Events, dict[str, str]], list[Event]] = lambda ev, n: []


RULES = {
    "contact is the user": Rule("contact", "customer", lambda n: {"contact": n["user"]}, True),
    "consumer is the user": Rule("consumer", "", lambda n: {"consumer": n["user"]}, True),
    "partner contact, with the partner role": Rule(
        "contact", "partner", lambda n: {"partner_contact": n["user"]}, True
    ),
    "partner contact, without the role": Rule("contact", "customer", lambda n: {"partner_contact": n["user"]}, False),
    "customer admin: the account": Rule("contact", "customer_admin", lambda n: {"account": n["own"]}, True),
    "customer admin: a descendant": Rule(
        "contact",
        "customer_admin",
        lambda n: {"account": n["grandchild"]},
        True,
        lambda ev, n: [ev.account(n["child"], parent=n["own"]), ev.account(n["grandchild"], parent=n["child"])],
    ),
    "customer admin: a contact relationship": Rule(
        "contact",
        "customer_admin",
        lambda n: {"account": n["elsewhere"]},
        True,
        lambda ev, n: [ev.contact_relationship(new_id(), n["user"], n["elsewhere"])],
    ),
    "customer role only: the account": Rule("contact", "customer", lambda n: {"account": n["own"]}, False),
    "customer admin: the partner column": Rule("contact", "customer_admin", lambda n: {"partner": n["own"]}, False),
    "partner admin: the partner column": Rule("contact", "partner_admin", lambda n: {"partner": n["own"]}, True),
    "partner admin: the account": Rule("contact", "partner_admin", lambda n: {"account": n["own"]}, True),
    "partner admin: a related account": Rule(
        "contact",
        "partner_admin",
        lambda n: {"account": n["elsewhere"]},
        True,
        lambda ev, n: [ev.relationship(new_id(), n["elsewhere"], n["own"])],
    ),
    "customer admin: a related account": Rule(
        "contact",
        "customer_admin",
        lambda n: {"account": n["elsewhere"]},
        False,
        lambda ev, n: [ev.relationship(new_id(), n["elsewhere"], n["own"])],
    ),
    "somebody else's case": Rule(
        "contact",
        "customer_admin,partner_admin,partner",
        lambda n: {"account": n["elsewhere"], "contact": n["stranger"]},
        False,
    ),
    "a visible work order names the case": Rule(
        "contact",
        "customer_admin",
        lambda n: {"account": n["elsewhere"]},
        False,
        lambda ev, n: [ev.work_order(new_id(), "WO1", account=n["own"], initiated_from=n["case"])],
    ),
}


@pytest.mark.parametrize("name", list(RULES))
async def test_each_rule_read_on_the_cases_own_columns(store: Store, client: httpx.AsyncClient, name: str) -> None:
    rule = RULES[name]
    ev = Events()
    n = {key: new_id() for key in ("user", "own", "child", "grandchild", "elsewhere", "stranger", "case", "incident")}
    user = ev.contact(n["user"], n["own"], roles=rule.roles) if rule.user_is == "contact" else ev.consumer(n["user"])
    await store.deliver(
        user,
        ev.account(n["own"]),
        ev.account(n["elsewhere"]),
        *rule.extra(ev, n),
        ev.case(n["case"], "CS1", incident=n["incident"], **rule.case_refs(n)),
        ev.itsm("incident", n["incident"], "INC1"),
    )
    assert await related(client, n["case"], n["user"]) == ([n["incident"]] if rule.visible else None)


# -- records of different systems in any order; changes count at once -----------------------------


async def test_records_arriving_in_any_order(store: Store, client: httpx.AsyncClient) -> None:
    """The case, its incident and a request, each in its own batch, in every order: the answer
    lists what the bridge knows so far, and ends the same."""
    user, case, incident, request = (new_id() for _ in range(4))
    for order in itertools.permutations(("case", "incident", "request")):
        await store.reset()
        ev = Events()
        events = {
            "case": ev.case(case, "CS1", contact=user, incident=incident),
            "incident": ev.itsm("incident", incident, "INC1"),
            "request": ev.itsm("sc_request", request, "REQ1", parent=case),
        }
        await store.deliver(ev.contact(user, new_id()))
        delivered: set[str] = set()
        for name in order:
            await store.deliver(events[name])
            delivered.add(name)
            expected = [sys_id for kind, sys_id in (("incident", incident), ("request", request)) if kind in delivered]
            assert await related(client, case, user) == (expected if "case" in delivered else None), order


async def test_a_change_shows_on_the_next_request(store: Store, client: httpx.AsyncClient) -> None:
    s = await scene(store)
    listed = [s.incident, s.problem, s.change, *s.requests]
    ev = s.ev
    assert await related(client, s.case, s.admin) == listed

    await store.deliver(ev.contact(s.admin, s.acme, roles="customer"))  # role taken away
    assert await related(client, s.case, s.admin) is None
    await store.deliver(ev.contact(s.admin, s.acme, roles="customer,customer_admin"))
    assert await related(client, s.case, s.admin) == listed

    await store.deliver(
        ev.case(s.case, "CS0001001", account=s.other, incident=s.incident, problem=s.problem, change=s.change)
    )  # the case moves to Other
    assert await related(client, s.case, s.admin) is None
    assert await related(client, s.case, s.outsider) == listed

    relationship = new_id()  # the admin acts for Other too
    await store.deliver(ev.contact_relationship(relationship, s.admin, s.other))
    assert await related(client, s.case, s.admin) == listed
    await store.deliver(ev.delete("sn_customerservice_contact_relationship", relationship))
    assert await related(client, s.case, s.admin) is None

    newer = new_id()  # another incident, a request closed, one moved, the problem deleted
    await store.deliver(
        ev.itsm("incident", newer, "INC0010009"),
        ev.case(s.case, "CS0001001", account=s.other, incident=newer, problem=s.problem, change=s.change),
        ev.itsm("sc_request", s.requests[0], "REQ0010001", "closed_complete", parent=s.case),
        ev.itsm("sc_request", s.requests[1], "REQ0010002", "requested", parent=s.other_case),
        ev.delete("problem", s.problem),
    )
    response = await client.get(path(s.case), params={"user": s.outsider}, headers=AUTH)
    assert [(r["sys_id"], r["state"]) for r in response.json()["result"]] == [
        (newer, "2"),
        (s.change, "-1"),
        (s.requests[0], "closed_complete"),
    ]
    assert await related(client, s.other_case, s.outsider) == [s.requests[1], s.other_request]  # by number

    await store.deliver(ev.delete("sn_customerservice_case", s.case))
    assert await related(client, s.case, s.outsider) is None
    async with store.engine.begin() as conn:
        assert await check(conn) == []
        await rebuild(conn)
        assert await check(conn) == []
    assert await related(client, s.other_case, s.outsider) == [s.requests[1], s.other_request]
