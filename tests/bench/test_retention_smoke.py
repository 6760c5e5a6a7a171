"""The retention soak still works: a short run of each mode reports its samples, and with the
bridge's pruner on (windows of a fraction of a second) the store keeps fewer processed-event
keys than without it, while the records (the same set) are the same. The million-event run
(``python -m bench.retention``) is what shows the sizes flat; nothing is timed here."""

from __future__ import annotations

import json
from pathlib import Path

from bench.retention import TABLES, index_cost, report, soak


async def test_a_short_retention_soak_prunes_with_retention_on_and_reports(tmp_path: Path) -> None:
    on = await soak("on", 6000, 0.2, 2000, tmp_path, progress=False)
    off = await soak("off", 6000, 0.2, 2000, tmp_path, progress=False)
    report(tmp_path / "out", runs=[on, off])

    population = on.points[-1].rows["records"]
    assert on.points[-1].events == off.points[-1].events > 6000  # the population, then 6000
    assert on.points[-1].rows["records"] == off.points[-1].rows["records"] == population
    kept = {run.mode: run.points[-1].rows["processed_events"] for run in (on, off)}
    assert kept["off"] == off.outcomes["in"] - off.outcomes["dead_lettered"]  # every key stays
    assert kept["on"] < kept["off"]
    assert all(p.rss_mib > 0 and p.pages > 0 for p in on.points + off.points)
    saved = json.loads((tmp_path / "out" / "retention.json").read_text())
    assert [r["mode"] for r in saved["runs"]] == ["on", "off"]
    assert set(saved["runs"][0]["growth"]["rows"]) == set(TABLES)
    assert "## Retention on" in (tmp_path / "out" / "retention.md").read_text()


async def test_the_index_cost_run_measures_both_revisions(tmp_path: Path) -> None:
    cost = await index_cost(1500, 1, tmp_path)
    assert set(cost["median"]) == {"0006", "0007"} and min(cost["median"].values()) > 0
    assert cost["store"] == "sqlite"
    report(tmp_path / "out", runs=[], cost={"smoke": cost})
    assert "- smoke: 0006" in (tmp_path / "out" / "retention.md").read_text()
