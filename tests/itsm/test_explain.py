"""`bridge explain case`: each related-record update a case saw or did not see, and why."""

from __future__ import annotations

import json
from typing import Any

import pytest
import typer
from typer.testing import CliRunner

from bridge.commands import explain
from bridge.ops.explain import explain_case
from bridge.settings import get_settings
from tests.fixtures.events import new_sys_id
from tests.itsm.events import case, itsm
from tests.itsm.harness import ItsmHarness, mappings_with


@pytest.fixture
async def scenario(store_engine: Any, store_url: str) -> dict[str, Any]:
    """A major case sharing INC with an open and a resolved child; one child with its own PRB."""
    h = ItsmHarness(
        store_engine,
        mappings=mappings_with(
            parent_child_case_sync=True, case_fields_to_sync=["state", "close_notes", "resolution_code", "incident"]
        ),
    )
    inc, prb = new_sys_id(), new_sys_id()
    m = case(mod=1, number="CS0009000", major_case_state="accepted", incident=inc)
    open_child = case(mod=1, number="CS0009001", parent=m["sys_id"], incident=inc)
    resolved = case(mod=1, number="CS0009002", parent=m["sys_id"], incident=inc, state="6")
    own = case(mod=1, number="CS0009003", parent=m["sys_id"], problem=prb)
    await h.run(m, open_child, resolved, own)
    await h.run(itsm("incident", inc, 2, changed=("state",), state="3", hold_reason="Vendor"))
    await h.run(itsm("problem", prb, 2, changed=("workaround",), state="103", workaround="Reboot"))
    return {"url": store_url, "engine": store_engine}


async def test_explain_lists_every_decision_with_its_rule(scenario: dict[str, Any]) -> None:
    async with scenario["engine"].connect() as conn:
        resolved = await explain_case(conn, "CS0009002")
        major = await explain_case(conn, "CS0009000")
        own = await explain_case(conn, "CS0009003")
    assert resolved["parent"]["number"] == "CS0009000"
    assert [(r["relation"], r["number"]) for r in resolved["related_records"]] == [("incident", "INC0012001")]
    [update] = resolved["updates"]
    assert update["record"]["number"] == "INC0012001" and update["delivered"] is False
    assert (update["rule"], update["via"]) == ("child_closed", "CS0009000")
    assert "Resolved, Closed or Canceled" in update["why"]
    assert update["notes"] == ["incident.state_changed"]
    assert sorted(c["number"] for c in major["children"]) == ["CS0009001", "CS0009002", "CS0009003"]
    assert [(u["record"]["number"], u["delivered"], u["rule"]) for u in major["updates"]] == [
        ("INC0012001", True, "major_case"),
        ("PRB0004001", False, "child_own_record"),
    ]
    [prb_update] = [u for u in own["updates"] if u["record"]["number"] == "PRB0004001"]
    assert prb_update["delivered"] and prb_update["rule"] == "own_record"
    assert prb_update["notes"] == ["problem.workaround"] and prb_update["resolution"] == {
        "code": "Solved – Workaround provided based on open PRB",
        "outcome": "suggested",
    }


def test_explain_command_prints_json_and_a_table(scenario: dict[str, Any]) -> None:
    env = {"BRIDGE_STORE__URL": scenario["url"], "COLUMNS": "220"}
    cli = typer.Typer()  # as cli.py registers it: `bridge explain case …`
    cli.add_typer(explain.app, name="explain")
    get_settings.cache_clear()
    try:
        as_json = CliRunner().invoke(cli, ["explain", "case", "CS0009002", "--json"], env=env)
        table = CliRunner().invoke(cli, ["explain", "case", "CS0009002"], env=env)
        missing = CliRunner().invoke(cli, ["explain", "case", "CS0000000"], env=env)
    finally:
        get_settings.cache_clear()
    assert as_json.exit_code == 0, as_json.output
    assert json.loads(as_json.stdout)["updates"][0]["rule"] == "child_closed"
    assert table.exit_code == 0 and "child_closed" in table.stdout and "not sent" in table.stdout
    assert missing.exit_code == 1 and "no case" in missing.stderr
