"""The soak harness still works: a short run on the session's broker reports its figures and
the bridge drains everything it was sent. Memory growth is measured by the real 30-minute run
(``python -m bench.soak``), never asserted here."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from bench.soak import soak, write

pytestmark = pytest.mark.kafka


async def test_a_short_soak_reports_memory_and_drains(kafka_bootstrap: str, tmp_path: Path) -> None:
    result = await soak(kafka_bootstrap, minutes=0.4, rate=50, work_dir=tmp_path, say=lambda _line: None)
    paths = write(result, tmp_path / "out")

    assert result.drained, "every event sent was committed by the bridge"
    # The pacer never runs ahead of its schedule, and catches up after any stall: at most the
    # scheduled count, and (unless the loop stalled for half the run) at least half of it.
    scheduled = 0.4 * 60 * 50
    assert scheduled / 2 <= result.sent <= scheduled
    assert (
        result.points[-1].sent <= result.sent
        and all(  # counted as it went, never backwards
            a.sent <= b.sent for a, b in zip(result.points, result.points[1:], strict=False)
        )
    )
    summary = result.summary()
    assert summary["after_warmup_rss_mib"] > 0 and summary["peak_rss_mib"] >= summary["end_rss_mib"] > 0
    assert summary["end_lag"] >= 0
    assert 0 < summary["peak_wal_mib"] < 40  # the store's write-ahead log is sampled
    saved = json.loads(paths[0].read_text())
    assert saved["summary"] == summary and len(saved["points"]) == len(result.points) >= 4
    assert "# Soak" in paths[1].read_text()
    assert paths[2].read_bytes().startswith(b"\x89PNG")
