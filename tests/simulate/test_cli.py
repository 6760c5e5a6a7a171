"""`bridge simulate` from the command line."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from bridge.settings import get_settings
from cli import app


def test_population_prints_its_summary_as_json() -> None:
    result = CliRunner().invoke(app, ["simulate", "population", "--seed", "3", "--size", "tiny", "--json"])
    assert result.exit_code == 0, result.output
    summary = json.loads(result.stdout)
    assert summary["size"] == "tiny" and summary["seed"] == 3
    assert summary["customer_accounts"] == 6 and summary["cases"] >= 24


def test_run_needs_exactly_one_of_count_and_duration() -> None:
    result = CliRunner().invoke(app, ["simulate", "run", "--count", "5", "--duration", "1"])
    assert result.exit_code == 2


@pytest.mark.kafka
def test_run_publishes_to_the_configured_broker(
    bridge_env: dict[str, str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name, value in bridge_env.items():
        monkeypatch.setenv(name, value)
    get_settings.cache_clear()
    try:
        result = CliRunner().invoke(
            app,
            [
                "simulate",
                "run",
                "--seed",
                "4",
                "--size",
                "tiny",
                "--count",
                "50",
                "--linger",
                "0.1",
                "--record",
                str(tmp_path / "received.jsonl"),
                "--json",
            ],
        )
    finally:
        get_settings.cache_clear()
    assert result.exit_code == 0, result.output
    summary = json.loads(result.stdout)
    assert summary["sent_total"] == summary["sent"]["population"] + 50


@pytest.mark.kafka
def test_run_without_the_population_changes_the_records_of_an_earlier_run(
    bridge_env: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """``--no-population``: the bridge has the seed's records from an earlier run; only the
    workload is published, and it changes those records (it used to crash on an empty world)."""
    for name, value in bridge_env.items():
        monkeypatch.setenv(name, value)
    get_settings.cache_clear()
    try:
        result = CliRunner().invoke(
            app,
            [
                "simulate",
                "run",
                "--seed",
                "4",
                "--size",
                "tiny",
                "--count",
                "20",
                "--linger",
                "0.1",
                "--no-population",
                "--json",
            ],
        )
    finally:
        get_settings.cache_clear()
    assert result.exit_code == 0, result.output
    summary = json.loads(result.stdout)
    assert "population" not in summary["sent"]
    assert summary["sent_total"] == 20 and summary["records"] > 0
