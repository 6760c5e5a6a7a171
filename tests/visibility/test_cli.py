"""`bridge visibility …` against a real SQLite store."""

from __future__ import annotations

import asyncio
import json

from sqlalchemy import delete
from typer.testing import CliRunner

from bridge.settings import get_settings
from bridge.visibility.schema import vis_user_scope
from cli import app
from tests.visibility.harness import Events, Store, new_id


async def invoke(monkeypatch, store: Store, *args: str):
    """Run the command as a user would (its own ``asyncio.run``, so in a thread of its own)."""
    monkeypatch.setenv("BRIDGE_STORE__URL", store.engine.url.render_as_string(hide_password=False))
    get_settings.cache_clear()
    try:
        return await asyncio.to_thread(CliRunner().invoke, app, ["visibility", *args])
    finally:
        get_settings.cache_clear()


async def test_list_who_check_and_rebuild(store: Store, monkeypatch) -> None:
    ev, acc, admin, wo = Events(), new_id(), new_id(), new_id()
    await store.deliver(
        ev.account(acc, "Acme"),
        ev.contact(admin, acc, roles="customer_admin"),
        ev.work_order(wo, "WO0010001", account=acc),
    )
    listed = await invoke(monkeypatch, store, "list", "--user", admin, "--json")
    assert listed.exit_code == 0, listed.output
    assert [row["number"] for row in json.loads(listed.output)] == ["WO0010001"]
    assert "WO0010001" in (await invoke(monkeypatch, store, "list", "--user", admin)).output

    who = await invoke(monkeypatch, store, "who", "WO0010001", "--json")
    assert json.loads(who.output) == [{"user": admin, "account": acc, "rule": "customer_admin"}]
    assert (await invoke(monkeypatch, store, "who", "WO404")).exit_code == 1

    assert (await invoke(monkeypatch, store, "check")).exit_code == 0
    async with store.engine.begin() as conn:
        await conn.execute(delete(vis_user_scope))
    damaged = await invoke(monkeypatch, store, "check")
    assert damaged.exit_code == 1 and "vis_user_scope" in damaged.output
    checked = await invoke(monkeypatch, store, "check", "--json")
    assert checked.exit_code == 1
    report = json.loads(checked.stdout)
    assert report["consistent"] is False and report["count"] == len(report["differences"]) >= 1
    assert {d["table"] for d in report["differences"]} == {"vis_user_scope"}
    assert all(d["found"] is None and d["expected"] for d in report["differences"])

    # A rebuild previews what it would change, and changes nothing until --execute.
    preview = await invoke(monkeypatch, store, "rebuild", "--json")
    assert preview.exit_code == 0, preview.output
    planned = json.loads(preview.stdout)
    assert planned["executed"] is False and planned["differences"] == report["differences"]
    assert "preview only" in (await invoke(monkeypatch, store, "rebuild")).stdout
    assert (await invoke(monkeypatch, store, "check")).exit_code == 1
    executed = await invoke(monkeypatch, store, "rebuild", "--execute", "--json")
    assert executed.exit_code == 0, executed.output
    assert json.loads(executed.stdout) | {"differences": []} == {
        "executed": True,
        "changes": report["count"],
        "differences": [],
        "remaining": 0,
    }
    assert (await invoke(monkeypatch, store, "check")).exit_code == 0
    assert json.loads((await invoke(monkeypatch, store, "check", "--json")).stdout) == {
        "consistent": True,
        "count": 0,
        "differences": [],
    }


async def test_related_records_of_a_case(store: Store, monkeypatch) -> None:
    ev, acc, admin, outsider, case, incident = Events(), new_id(), new_id(), new_id(), new_id(), new_id()
    await store.deliver(
        ev.contact(admin, acc, roles="customer_admin"),
        ev.contact(outsider, new_id(), roles="customer_admin"),
        ev.case(case, "CS0001001", account=acc, incident=incident),
        ev.itsm("incident", incident, "INC0010001", "2"),
    )
    for ref in (case, "CS0001001"):
        listed = await invoke(monkeypatch, store, "related", ref, "--user", admin, "--json")
        assert listed.exit_code == 0, listed.output
        assert json.loads(listed.output) == [
            {
                "sys_id": incident,
                "table": "incident",
                "number": "INC0010001",
                "state": "2",
                "short_description": "About INC0010001",
            }
        ]
    assert "INC0010001" in (await invoke(monkeypatch, store, "related", case, "--user", admin)).output
    assert (await invoke(monkeypatch, store, "related", case, "--user", outsider)).exit_code == 1
    assert (await invoke(monkeypatch, store, "related", "CS404", "--user", admin)).exit_code == 1
