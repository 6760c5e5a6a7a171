"""The portal API served by the running bridge, over real HTTP, fed by real Kafka events."""

from __future__ import annotations

import asyncio
import signal
import socket
from collections.abc import Callable
from pathlib import Path

import httpx
import pytest
from sqlalchemy import func, select
from sqlalchemy.exc import DBAPIError

from bridge.settings import Settings
from bridge.store.engine import create_engine
from bridge.store.schema import records
from tests.e2e.kafka_io import produce, start_bridge
from tests.fixtures.events import make_event, new_sys_id, ref

pytestmark = pytest.mark.kafka
TOKEN = "portal-test-token"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


async def _until_listed(client: httpx.AsyncClient, user: str, timeout_s: float = 60) -> dict:
    deadline = asyncio.get_running_loop().time() + timeout_s
    while True:
        try:
            response = await client.get(
                "/portal/v1/work-orders", params={"user": user}, headers={"Authorization": f"Bearer {TOKEN}"}
            )
            if response.status_code == 200 and response.json()["result"]:
                return response.json()
        except httpx.TransportError:
            pass  # not listening yet
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError("the work order never became visible")
        await asyncio.sleep(0.5)


async def test_a_contact_sees_its_work_order_and_nobody_else_does(
    bridge_settings: Settings, bridge_env: dict[str, str], tmp_path: Path
) -> None:
    port = _free_port()
    process = start_bridge(
        {**bridge_env, "BRIDGE_HTTP__PORTAL_TOKEN": TOKEN}, port=port, log_path=str(tmp_path / "bridge.log")
    )
    try:
        contact = make_event("csm-contact-insert")
        stranger = make_event(
            "csm-contact-insert", sys_id=new_sys_id(), record={"account": ref(new_sys_id()), "roles": "customer"}
        )
        wo = make_event("fsm-work-order-insert", caused_by_command=None)
        await produce(
            bridge_settings, [make_event("csm-account-insert"), contact, stranger, make_event("csm-case-insert"), wo]
        )
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", timeout=10) as client:
            listed = await _until_listed(client, contact["sys_id"])
            [row] = listed["result"]
            assert row == {
                "sys_id": wo["sys_id"],
                "number": "WO0010001",
                "priority": "2",
                "state": "draft",
                "short_description": wo["record"]["short_description"],
                "case": {"sys_id": wo["record"]["initiated_from"]["value"], "number": "CS0001001"},
                "account": {"sys_id": wo["record"]["account"]["value"], "name": "Acme Corp"},
            }
            url = f"/portal/v1/work-orders/{wo['sys_id']}"
            auth = {"Authorization": f"Bearer {TOKEN}"}
            assert (await client.get(url, params={"user": contact["sys_id"]})).status_code == 401
            hidden = await client.get(url, params={"user": stranger["sys_id"]}, headers=auth)
            missing = await client.get(
                f"/portal/v1/work-orders/{new_sys_id()}", params={"user": contact["sys_id"]}, headers=auth
            )
            assert hidden.status_code == missing.status_code == 404
            assert hidden.content == missing.content  # no existence leak
            assert (await client.get("/health")).status_code == 200
    finally:
        process.send_signal(signal.SIGTERM)
        process.wait(timeout=30)


async def _until(
    client: httpx.AsyncClient, path: str, user: str, done: Callable[[httpx.Response], bool], timeout_s: float = 60
) -> httpx.Response:
    """GET ``path`` for ``user`` until ``done`` holds for the answer."""
    deadline = asyncio.get_running_loop().time() + timeout_s
    while True:
        try:
            response = await client.get(path, params={"user": user}, headers={"Authorization": f"Bearer {TOKEN}"})
            if done(response):
                return response
        except httpx.TransportError:
            pass  # not listening yet
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(f"{path} never answered as expected")
        await asyncio.sleep(0.5)


async def _stored(settings: Settings, *sys_ids: str, timeout_s: float = 60) -> None:
    """Wait until the bridge has stored these records (read from its store, as the portal does)."""
    engine = create_engine(settings.store.url, writer=False)
    deadline = asyncio.get_running_loop().time() + timeout_s
    try:
        while True:
            try:
                async with engine.connect() as conn:
                    found = (
                        await conn.execute(
                            select(func.count()).select_from(records).where(records.c.sys_id.in_(sys_ids))
                        )
                    ).scalar_one()
                if found == len(sys_ids):
                    return
            except DBAPIError:
                pass  # the bridge has not created its store yet
            assert asyncio.get_running_loop().time() < deadline, "the bridge did not store the records"
            await asyncio.sleep(0.3)
    finally:
        await engine.dispose()


async def test_a_cases_related_records_from_itsm_and_csm_events_in_any_order(
    bridge_settings: Settings, bridge_env: dict[str, str], tmp_path: Path
) -> None:
    """ITSM's incident and request reach the bridge before CSM's case: the "Related Records"
    widget lists them once the case is known, to a contact the case's account grants it, and
    to nobody else (the work-order detail's 404); a change of the case's account revokes it."""
    port = _free_port()
    process = start_bridge(
        {**bridge_env, "BRIDGE_HTTP__PORTAL_TOKEN": TOKEN}, port=port, log_path=str(tmp_path / "bridge.log")
    )
    try:
        admin = make_event("csm-contact-insert", record={"roles": "customer_admin"})
        stranger = make_event(
            "csm-contact-insert", sys_id=new_sys_id(), record={"account": ref(new_sys_id()), "roles": "customer_admin"}
        )
        incident = make_event("itsm-incident-update", sys_id=new_sys_id())
        request = make_event("itsm-request-closed")  # its parent is the example case
        case = make_event(
            "csm-case-insert",
            record={"contact": "", "partner_contact": "", "incident": ref(incident["sys_id"], "INC0012001")},
        )
        path = f"/portal/v1/cases/{case['sys_id']}/related-records"
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", timeout=10) as client:
            await produce(bridge_settings, [make_event("csm-account-insert"), admin, stranger, incident, request])
            await _stored(bridge_settings, admin["sys_id"], stranger["sys_id"], incident["sys_id"], request["sys_id"])
            before = await client.get(
                path, params={"user": admin["sys_id"]}, headers={"Authorization": f"Bearer {TOKEN}"}
            )
            await produce(bridge_settings, [case])
            listed = await _until(
                client, path, admin["sys_id"], lambda r: r.status_code == 200 and len(r.json()["result"]) == 2
            )
            assert listed.json() == {
                "result": [
                    {
                        "sys_id": incident["sys_id"],
                        "table": "incident",
                        "number": "INC0012001",
                        "state": "3",
                        "short_description": "Printer fleet firmware fault",
                    },
                    {
                        "sys_id": request["sys_id"],
                        "table": "sc_request",
                        "number": "REQ0002001",
                        "state": "closed_complete",
                        "short_description": "Replacement toner",
                    },
                ]
            }
            auth = {"Authorization": f"Bearer {TOKEN}"}
            assert (await client.get(path, params={"user": admin["sys_id"]})).status_code == 401
            hidden = await client.get(path, params={"user": stranger["sys_id"]}, headers=auth)
            missing = await client.get(
                f"/portal/v1/cases/{new_sys_id()}/related-records", params={"user": admin["sys_id"]}, headers=auth
            )
            no_work_order = await client.get(
                f"/portal/v1/work-orders/{new_sys_id()}", params={"user": admin["sys_id"]}, headers=auth
            )
            assert hidden.status_code == missing.status_code == no_work_order.status_code == 404
            assert hidden.content == missing.content == no_work_order.content  # no existence leak
            assert (before.status_code, before.content) == (404, missing.content)  # before the case came

            moved = make_event(
                "csm-case-insert",
                operation="update",
                sys_mod_count=1,
                record={**case["record"], "account": ref(new_sys_id())},
            )
            await produce(bridge_settings, [moved])
            gone = await _until(client, path, admin["sys_id"], lambda r: r.status_code == 404)
            assert gone.content == missing.content
    finally:
        process.send_signal(signal.SIGTERM)
        process.wait(timeout=30)
