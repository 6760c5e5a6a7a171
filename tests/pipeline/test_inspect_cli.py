"""`bridge inspect case|work-order|record|account --json` on a real store."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import pytest
from typer.testing import CliRunner

from bridge.settings import get_settings
from cli import app
from tests.fixtures.events import make_event, new_sys_id, ref
from tests.pipeline.harness import Harness


@pytest.fixture
def inspect(store_url: str, monkeypatch: pytest.MonkeyPatch) -> Any:
    monkeypatch.setenv("BRIDGE_STORE__URL", store_url)
    get_settings.cache_clear()

    async def run(*args: str) -> dict[str, Any]:
        # The CLI runs its own event loop: call it from a thread, as a shell would.
        result = await asyncio.to_thread(CliRunner().invoke, app, ["inspect", *args, "--json"])
        assert result.exit_code == 0, result.output
        return json.loads(result.output)

    yield run
    get_settings.cache_clear()


async def test_inspect_every_kind(store_engine: Any, inspect: Any) -> None:
    h = Harness(store_engine)
    account = make_event("csm-account-insert")
    account_id = account["sys_id"]
    child = make_event(
        "csm-account-insert", sys_id=new_sys_id(), record={"number": "ACCT0000099", "parent": ref(account_id)}
    )
    relationship = make_event("csm-account-relationship-insert")
    wo = make_event("fsm-work-order-insert", caused_by_command=None)
    await h.feed(account, child, relationship, make_event("csm-contact-insert"), make_event("csm-case-insert"), wo)
    await h.feed(make_event("csm-case-update", sys_mod_count=0, record={"priority": "4"}))
    await h.feed(b"not json")

    case = await inspect("case", "CS0001001")
    assert [w["sys_id"] for w in case["work_orders"]] == [wo["sys_id"]]
    assert [d["outcome"] for d in case["dropped"]] == ["stale"]  # the update older than the insert
    assert (await inspect("work-order", "WO0010001"))["cases"][0]["number"] == "CS0001001"

    record = await inspect("record", wo["sys_id"])
    assert {"kind": "case_work_order", "direction": "in", "other": wo["record"]["initiated_from"]["value"]} in record[
        "links"
    ]
    assert record["record"]["table"] == "wm_order"

    view = await inspect("account", account_id)
    assert [c["sys_id"] for c in view["children"]] == [child["sys_id"]]
    assert view["work_orders"][0]["sys_id"] == wo["sys_id"]
    other = relationship["record"]["to_company"]["value"]
    if other == account_id:
        other = relationship["record"]["from_company"]["value"]
    assert view["related_accounts"] == [other]


async def test_inspect_an_unknown_record_says_so(store_url: str, inspect: Any) -> None:
    result = await asyncio.to_thread(CliRunner().invoke, app, ["inspect", "record", new_sys_id()])
    assert result.exit_code == 1 and "no record" in result.output
