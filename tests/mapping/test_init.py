"""`bridge mappings init DIR`: the shipped set written out for editing, never over an admin's files."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from cli import app

ROOT = Path(__file__).parents[2]
runner = CliRunner()


def _files(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in folder.rglob("*") if p.is_file()}


def test_init_writes_the_shipped_set_which_validates_and_passes_its_tests(tmp_path: Path) -> None:
    target = tmp_path / "my-mappings"
    result = runner.invoke(app, ["mappings", "init", str(target)])
    assert result.exit_code == 0, result.stderr
    assert _files(target) == _files(ROOT / "mappings")
    validated = runner.invoke(app, ["mappings", "validate", str(target), "--json"])
    assert validated.exit_code == 0 and json.loads(validated.stdout)["valid"] is True
    tested = runner.invoke(app, ["mappings", "test", str(target)])
    assert tested.exit_code == 0, tested.stdout


def test_init_refuses_to_overwrite_an_edited_file_without_force(tmp_path: Path) -> None:
    assert runner.invoke(app, ["mappings", "init", str(tmp_path)]).exit_code == 0
    edited = tmp_path / "value_maps.yaml"
    edited.write_text("# the admin's own edits\n")
    refused = runner.invoke(app, ["mappings", "init", str(tmp_path)])
    assert refused.exit_code == 1
    assert "--force" in refused.stderr and len(refused.stderr.strip().splitlines()) == 1
    assert edited.read_text() == "# the admin's own edits\n"
    forced = runner.invoke(app, ["mappings", "init", str(tmp_path), "--force"])
    assert forced.exit_code == 0
    assert edited.read_bytes() == (ROOT / "mappings" / "value_maps.yaml").read_bytes()


def test_init_into_an_unrelated_folder_keeps_its_other_files(tmp_path: Path) -> None:
    (tmp_path / "NOTES.txt").write_text("mine")
    assert runner.invoke(app, ["mappings", "init", str(tmp_path)]).exit_code == 0
    assert (tmp_path / "NOTES.txt").read_text() == "mine"
    assert (tmp_path / "bridge.yaml").is_file()


def test_init_onto_a_file_is_one_line(tmp_path: Path) -> None:
    (tmp_path / "taken").write_text("")
    result = runner.invoke(app, ["mappings", "init", str(tmp_path / "taken")])
    assert result.exit_code == 1
    assert result.stderr.strip() == f"{tmp_path / 'taken'} exists and is not a folder"
