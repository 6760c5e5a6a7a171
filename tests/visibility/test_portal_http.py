"""The portal API over real HTTP (uvicorn on 127.0.0.1, httpx client), on SQLite."""

from __future__ import annotations

import base64
import json
from collections.abc import AsyncIterator
from dataclasses import dataclass

import httpx
import pytest
import structlog
from pydantic import SecretStr
from sqlalchemy.ext.asyncio import AsyncEngine

import bridge.portal.app as portal_app
from bridge.logs import configure_logging
from bridge.portal import PortalServer, create_portal_app
from bridge.store.engine import create_engine
from tests.visibility.harness import Events, Store, new_id

TOKEN = "s3cret-portal-token"
AUTH = {"Authorization": f"Bearer {TOKEN}"}


@dataclass
class Landscape:
    account: str
    admin: str
    outsider: str
    case: str
    work_orders: list[str]  # sorted by number
    hidden: str
    tasks: list[str]


async def populate(store: Store) -> Landscape:
    ev = Events()
    account, other, admin, outsider, case, hidden = (new_id() for _ in range(6))
    work_orders = [new_id() for _ in range(5)]
    tasks = [new_id(), new_id()]
    await store.deliver(
        ev.account(account, "Acme Corp"),
        ev.account(other, "Other Inc"),
        ev.contact(admin, account, roles="customer_admin"),
        ev.contact(outsider, other, roles="customer_admin"),
        ev.case(case, "CS0001001"),
        *(ev.work_order(wo, f"WO001000{i}", account=account, initiated_from=case) for i, wo in enumerate(work_orders)),
        ev.work_order(hidden, "WO0020000", account=other),
        ev.task(tasks[1], work_orders[0], "WOT0010002"),
        ev.task(tasks[0], work_orders[0], "WOT0010001"),
    )
    return Landscape(account, admin, outsider, case, work_orders, hidden, tasks)


@pytest.fixture
async def reader(engine: AsyncEngine) -> AsyncIterator[AsyncEngine]:
    reader = create_engine(engine.url.render_as_string(hide_password=False), writer=False)
    yield reader
    await reader.dispose()


async def serve(reader: AsyncEngine, token: str = TOKEN) -> PortalServer:
    return PortalServer(create_portal_app(reader, SecretStr(token)))


@pytest.fixture
async def client(reader: AsyncEngine) -> AsyncIterator[httpx.AsyncClient]:
    async with await serve(reader) as server, httpx.AsyncClient(base_url=server.base_url, timeout=10) as client:
        yield client


async def test_list_has_exactly_the_contracts_shape(store: Store, client: httpx.AsyncClient) -> None:
    land = await populate(store)
    response = await client.get("/portal/v1/work-orders", params={"user": land.admin}, headers=AUTH)
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/json"
    body = response.json()
    assert list(body) == ["result"]
    assert body["result"][0] == {
        "sys_id": land.work_orders[0],
        "number": "WO0010000",
        "priority": "3",
        "state": "assigned",
        "short_description": "Work WO0010000",
        "case": {"sys_id": land.case, "number": "CS0001001"},
        "account": {"sys_id": land.account, "name": "Acme Corp"},
    }
    assert [row["sys_id"] for row in body["result"]] == land.work_orders
    assert "x-next-cursor" not in response.headers


async def test_detail_has_the_tasks(store: Store, client: httpx.AsyncClient) -> None:
    land = await populate(store)
    response = await client.get(
        f"/portal/v1/work-orders/{land.work_orders[0]}", params={"user": land.admin}, headers=AUTH
    )
    assert response.status_code == 200
    result = response.json()["result"]
    assert set(result) == {"sys_id", "number", "priority", "state", "short_description", "case", "account", "tasks"}
    assert result["tasks"] == [
        {"sys_id": land.tasks[0], "number": "WOT0010001", "state": "assigned", "short_description": "Task"},
        {"sys_id": land.tasks[1], "number": "WOT0010002", "state": "assigned", "short_description": "Task"},
    ]


async def test_404_is_identical_for_missing_and_not_visible(store: Store, client: httpx.AsyncClient) -> None:
    land = await populate(store)
    answers = [
        await client.get(f"/portal/v1/work-orders/{wo}", params={"user": land.admin}, headers=AUTH)
        for wo in (land.hidden, new_id(), "not-a-sys-id")
    ]
    assert {a.status_code for a in answers} == {404}
    assert len({a.content for a in answers}) == 1
    assert len({tuple(sorted((k, v) for k, v in a.headers.items() if k != "date")) for a in answers}) == 1
    visible_to_outsider = await client.get(
        f"/portal/v1/work-orders/{land.hidden}", params={"user": land.outsider}, headers=AUTH
    )
    assert visible_to_outsider.status_code == 200


@pytest.mark.parametrize(
    "headers",
    [
        {},
        {"Authorization": "Bearer wrong"},
        {"Authorization": TOKEN},
        {"Authorization": f"Basic {TOKEN}"},
        {"Authorization": "Bearer"},
    ],
)
async def test_requests_without_the_token_are_refused(store: Store, client: httpx.AsyncClient, headers) -> None:
    land = await populate(store)
    for path in ("/portal/v1/work-orders", f"/portal/v1/work-orders/{land.work_orders[0]}"):
        response = await client.get(path, params={"user": land.admin}, headers=headers)
        assert response.status_code == 401
        assert response.headers["www-authenticate"] == "Bearer"
        assert "result" not in response.json()


async def test_portal_without_a_configured_token_is_disabled(store: Store, reader: AsyncEngine) -> None:
    land = await populate(store)
    async with await serve(reader, token="") as server, httpx.AsyncClient(base_url=server.base_url) as client:
        for headers in ({"Authorization": "Bearer"}, AUTH, {}):
            response = await client.get("/portal/v1/work-orders", params={"user": land.admin}, headers=headers)
            assert response.status_code == 503


def _token(value: object) -> str:
    """A cursor as a client could forge one (the encoding is not a secret)."""
    return base64.urlsafe_b64encode(json.dumps(value).encode()).decode().rstrip("=")


@pytest.mark.parametrize(
    "params",
    [
        {},
        {"user": "ABC"},
        {"user": "0" * 31},
        {"user": "A" * 32},
        {"limit": "0"},
        {"limit": "1001"},
        {"limit": "x"},
        {"cursor": "!!"},
        {"cursor": "e30"},
        {"cursor": _token(["WO0010001\x00", "a" * 32])},  # PostgreSQL would fail on the NUL
        {"cursor": _token(["WO0010001", "Z" * 32])},
    ],
)
async def test_malformed_parameters_are_400(client: httpx.AsyncClient, params) -> None:
    query = {"user": "a" * 32, **params} if "user" not in params and params else params
    response = await client.get("/portal/v1/work-orders", params=query, headers=AUTH)
    assert response.status_code == 400
    assert response.json()["error"]["message"].startswith("Invalid parameter")


async def test_pagination_walks_every_row_once_in_order(store: Store, client: httpx.AsyncClient) -> None:
    land = await populate(store)
    seen, pages, params = [], 0, {"user": land.admin, "limit": "2"}
    while True:
        response = await client.get("/portal/v1/work-orders", params=params, headers=AUTH)
        assert response.status_code == 200
        assert len(response.json()["result"]) <= 2
        seen += [row["sys_id"] for row in response.json()["result"]]
        pages += 1
        cursor = response.headers.get("x-next-cursor")
        if cursor is None:
            break
        assert response.headers["link"].endswith('rel="next"') and cursor in response.headers["link"]
        params = {**params, "cursor": cursor}
        assert pages < 10
    assert seen == land.work_orders
    assert pages == 3


async def test_a_change_shows_on_the_next_request(store: Store, client: httpx.AsyncClient) -> None:
    land = await populate(store)
    ev = Events(counts={land.admin: 0})
    await store.deliver(ev.contact(land.admin, land.account, roles="customer"))
    response = await client.get("/portal/v1/work-orders", params={"user": land.admin}, headers=AUTH)
    assert response.json() == {"result": []}


@pytest.mark.parametrize("query", ["user={a}&user={b}", "user={a}&limit=5&limit=6", "user={a}&cursor=x&cursor=y"])
async def test_a_repeated_parameter_is_400_never_either_value(
    store: Store, client: httpx.AsyncClient, query: str
) -> None:
    land = await populate(store)
    url = "/portal/v1/work-orders?" + query.format(a=land.outsider, b=land.admin)
    response = await client.get(url, headers=AUTH)
    assert response.status_code == 400
    assert "given more than once" in response.json()["error"]["message"]
    detail = await client.get(
        f"/portal/v1/work-orders/{land.work_orders[0]}?user={land.outsider}&user={land.admin}", headers=AUTH
    )
    assert detail.status_code == 400


@pytest.mark.parametrize(
    "cursor",
    [
        "[" * 4000,
        _token([[[[["WO1", "a" * 32]]]]]),
        base64.urlsafe_b64encode(b"[" * 1200 + b"]" * 1200).decode().rstrip("="),
        base64.urlsafe_b64encode(b"[" * 1000).decode().rstrip("="),  # within the length limit
        _token(["W" * 200, "a" * 32]) + "A" * 2000,
    ],
)
async def test_a_hostile_cursor_is_400_never_500(client: httpx.AsyncClient, cursor: str) -> None:
    response = await client.get("/portal/v1/work-orders", headers=AUTH, params={"user": "a" * 32, "cursor": cursor})
    assert response.status_code == 400
    assert response.json()["error"]["message"] == "Invalid parameter: cursor"


async def test_a_failing_store_is_a_json_500_and_one_log_line_without_a_traceback(
    store: Store,
    engine: AsyncEngine,
    client: httpx.AsyncClient,
    capfd: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    configure_logging("json", "INFO")  # as `bridge run` does
    # A fresh module logger: loggers are cached on first use with the configuration of then.
    monkeypatch.setattr(portal_app, "log", structlog.get_logger("bridge.portal"))
    land = await populate(store)
    async with engine.begin() as conn:  # the store breaks under the portal
        await conn.exec_driver_sql("DROP TABLE vis_work_orders")
    capfd.readouterr()
    response = await client.get("/portal/v1/work-orders", params={"user": land.admin}, headers=AUTH)
    assert response.status_code == 500
    assert response.json() == {"error": {"message": "Internal error"}}
    # what the portal's process logged (not this test's HTTP client)
    logged = "\n".join(line for line in "".join(capfd.readouterr()).splitlines() if '"logger": "httpx"' not in line)
    [line] = [json.loads(line) for line in logged.splitlines() if "portal.request_failed" in line]
    assert line["error_class"] == "OperationalError" and line["level"] == "error"
    assert "Traceback" not in logged and land.admin not in logged
