"""`bridge mappings validate | render | test | schema` through the real CLI."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from typer.testing import CliRunner

from cli import app

ROOT = Path(__file__).parents[2]
MAPPINGS = ROOT / "mappings"
EVENTS = MAPPINGS / "tests" / "events"
runner = CliRunner()


def test_validate_the_shipped_set() -> None:
    result = runner.invoke(app, ["mappings", "validate", str(MAPPINGS), "--json"])
    assert result.exit_code == 0
    assert json.loads(result.stdout)["valid"] is True


def test_validate_a_broken_set_exits_1_with_positioned_diagnostics(tmp_path: Path) -> None:
    (tmp_path / "m.yaml").write_text('version: "1"\nrouting: {resolution_mode: sugest, case_fields_to_sync: [state]}\n')
    text = runner.invoke(app, ["mappings", "validate", str(tmp_path)])
    assert text.exit_code == 1
    assert f"{tmp_path}/m.yaml:2:28: error[invalid-value] routing.resolution_mode" in text.stderr
    data = runner.invoke(app, ["mappings", "validate", str(tmp_path), "--json"])
    assert data.exit_code == 1
    found = json.loads(data.stdout)["diagnostics"]
    # One pass: the invalid value and what the checks of the rest find (syncing 'state' needs
    # its companions), where the second used to appear only once the first was fixed.
    assert [(d["line"], d["col"], d["code"]) for d in found] == [
        (2, 28, "invalid-value"),
        (2, 57, "state-requires-close-fields"),
    ]


def test_render_a_create_action_shows_the_choice_and_the_insert() -> None:
    result = runner.invoke(
        app,
        [
            "mappings",
            "render",
            "--event",
            str(EVENTS / "csm-case-action-create-change.json"),
            "--mappings",
            str(MAPPINGS),
            "--json",
        ],
    )
    assert result.exit_code == 0
    report = json.loads(result.stdout)
    assert report["command"]["map"] == "case_to_change" and report["command"]["fields"]["type"] == "normal"
    assert report["command"]["mapping_version"] == report["mappings"]["version"]
    assert {c["name"]: c["chosen"] for c in report["candidates"]} == {
        "case_to_standard_change": False,
        "case_to_change": True,
    }
    human = runner.invoke(
        app,
        [
            "mappings",
            "render",
            "--event",
            str(EVENTS / "csm-case-action-create-change.json"),
            "--mappings",
            str(MAPPINGS),
        ],
    )
    assert "condition is false" in human.stdout and "insert itsm.change_request" in human.stdout


def test_render_an_update_lists_the_sync_rules() -> None:
    result = runner.invoke(
        app,
        ["mappings", "render", "--event", str(EVENTS / "csm-case-update.json"), "--mappings", str(MAPPINGS), "--json"],
    )
    assert result.exit_code == 0
    rules = json.loads(result.stdout)["rules"]
    assert any(r.startswith("sync sn_customerservice_case.priority → wm_order.priority: unless") for r in rules)


def test_the_yaml_tests_pass_and_a_failure_exits_1(tmp_path: Path) -> None:
    assert runner.invoke(app, ["mappings", "test", str(MAPPINGS)]).exit_code == 0
    shutil.copytree(MAPPINGS, tmp_path / "m", ignore=shutil.ignore_patterns("schema"))
    case_maps = tmp_path / "m" / "tests" / "case_maps.yaml"
    case_maps.write_text(case_maps.read_text().replace("state: draft", "state: open", 1))
    result = runner.invoke(app, ["mappings", "test", str(tmp_path / "m")])
    assert result.exit_code == 1 and "FAIL case_maps::a case becomes a draft work order" in result.stdout


def test_schema_writes_the_committed_file(tmp_path: Path) -> None:
    out = tmp_path / "schema.json"
    assert runner.invoke(app, ["mappings", "schema", "--output", str(out)]).exit_code == 0
    assert out.read_text() == (MAPPINGS / "schema" / "mapping.schema.json").read_text()
