"""The portal API served by the running bridge, over real HTTP, fed by real Kafka events."""

from __future__ import annotations

import asyncio
import signal
import socket
from pathlib import Path

import httpx
import pytest

from bridge.settings import Settings
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
            response = await client.get("/portal/v1/work-orders", params={"user": user},
                                        headers={"Authorization": f"Bearer {TOKEN}"})
            if response.status_code == 200 and response.json()["result"]:
                return response.json()
        except httpx.TransportError:
            pass  # not listening yet
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError("the work order never became visible")
        await asyncio.sleep(0.5)


async def test_a_contact_sees_its_work_order_and_nobody_else_does(
        bridge_settings: Settings, bridge_env: dict[str, str], tmp_path: Path) -> None:
    port = _free_port()
    process = start_bridge({**bridge_env, "BRIDGE_HTTP__PORTAL_TOKEN": TOKEN}, port=port,
                           log_path=str(tmp_path / "bridge.log"))
    try:
        contact = make_event("csm-contact-insert")
        stranger = make_event("csm-contact-insert", sys_id=new_sys_id(),
                              record={"account": ref(new_sys_id()), "roles": "customer"})
        wo = make_event("fsm-work-order-insert", caused_by_command=None)
        await produce(bridge_settings, [make_event("csm-account-insert"), contact, stranger,
                                        make_event("csm-case-insert"), wo])
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", timeout=10) as client:
            listed = await _until_listed(client, contact["sys_id"])
            [row] = listed["result"]
            assert row == {
                "sys_id": wo["sys_id"], "number": "WO0010001", "priority": "2",
                "state": "draft", "short_description": wo["record"]["short_description"],
                "case": {"sys_id": wo["record"]["initiated_from"]["value"], "number": "CS0001001"},
                "account": {"sys_id": wo["record"]["account"]["value"], "name": "Acme Corp"},
            }
            url = f"/portal/v1/work-orders/{wo['sys_id']}"
            auth = {"Authorization": f"Bearer {TOKEN}"}
            assert (await client.get(url, params={"user": contact["sys_id"]})).status_code == 401
            hidden = await client.get(url, params={"user": stranger["sys_id"]}, headers=auth)
            missing = await client.get(f"/portal/v1/work-orders/{new_sys_id()}",
                                       params={"user": contact["sys_id"]}, headers=auth)
            assert hidden.status_code == missing.status_code == 404
            assert hidden.content == missing.content  # no existence leak
            assert (await client.get("/health")).status_code == 200
    finally:
        process.send_signal(signal.SIGTERM)
        process.wait(timeout=30)
