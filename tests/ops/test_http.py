"""The running bridge's HTTP surface: /health, /ready, /metrics changing as events flow, the
status page rendered in headless Chromium, and `bridge status` beside it."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from bridge.settings import Settings
from tests.e2e.kafka_io import collect, produce
from tests.fixtures.events import make_event, new_sys_id
from tests.ops.helpers import acli, acli_json, http_get, running_bridge, wait_until

pytestmark = pytest.mark.kafka

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"


def _metric(text: str, name: str, **labels: str) -> float:
    """Sum of a metric's samples whose labels include ``labels``."""
    total = 0.0
    for line in text.splitlines():
        match = re.match(rf"^{name}(?:{{(.*)}})? (\S+)$", line)
        if match and all(f'{k}="{v}"' in (match.group(1) or "") for k, v in labels.items()):
            total += float(match.group(2))
    return total


def _chromium(tmp_path: Path, url: str, *mode: str) -> str:
    profile = tmp_path / "chromium-profile"
    done = subprocess.run(
        [
            CHROMIUM,
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            f"--user-data-dir={profile}",
            "--window-size=1200,900",
            "--virtual-time-budget=5000",
            *mode,
            url,
        ],
        capture_output=True,
        text=True,
        timeout=90,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    return done.stdout


async def test_metrics_status_page_and_status_command_follow_the_events(
    bridge_settings: Settings, bridge_env: dict[str, str], tmp_path: Path
) -> None:
    with running_bridge(bridge_env, tmp_path / "bridge.log") as port:
        assert http_get(port, "/health") == (200, b'{"status": "alive"}')
        ready = json.loads(http_get(port, "/ready")[1])
        assert ready["ready"] and ready["checks"]["mappings"]["version"]
        before = http_get(port, "/metrics")[1].decode()
        assert _metric(before, "bridge_events_total") == 0

        cases = [make_event("csm-case-action-create-work-order", sys_id=new_sys_id()) for _ in range(5)]
        await produce(bridge_settings, [*cases, b"\xff not utf-8"], topic=bridge_settings.topics.csm_events)
        await collect(bridge_settings, bridge_settings.topics.fsm_commands, lambda m: len(m) >= 5)

        def scraped() -> str | None:
            text = http_get(port, "/metrics")[1].decode()
            done = _metric(text, "bridge_events_total") == 6  # counted before the phases
            committed = _metric(text, "bridge_batch_phase_seconds_total", phase="settle") > 0
            return text if done and committed else None

        after = wait_until(scraped, timeout_s=15)
        assert after, "metrics did not count the events"
        assert _metric(after, "bridge_events_total", source="csm", outcome="applied") == 5
        assert _metric(after, "bridge_commands_total", target="fsm", table="wm_order", operation="insert") == 5
        assert _metric(after, "bridge_dead_letters_total", reason="invalid_utf8") == 1
        assert _metric(after, "bridge_batch_size_count") >= 1
        for phase in ("decode", "prefetch", "flows", "flush", "commit", "publish", "settle"):
            wall = _metric(after, "bridge_batch_phase_seconds_total", phase=phase)
            cpu = _metric(after, "bridge_batch_phase_cpu_seconds_total", phase=phase)
            assert wall > 0 and 0 < cpu < wall + 1e-3, (phase, wall, cpu)

        def caught_up() -> dict | None:  # lag 0 everywhere, and a few samples for the chart
            data = json.loads(http_get(port, "/status.json")[1])
            done = data["lag"] is not None and sum(p["lag"] for p in data["lag"]) == 0
            return data if done and len(data["history"]) >= 3 else None

        status = wait_until(caught_up, timeout_s=20)
        assert status, "the sampler never saw the group caught up"
        lag_metrics = http_get(port, "/metrics")[1].decode()
        assert lag_metrics.count("bridge_consumer_lag{") == 9  # 3 topics × 3 partitions
        assert _metric(lag_metrics, "bridge_consumer_lag") == 0
        assert _metric(lag_metrics, "bridge_sqlite_wal_pages") > 0  # the checkpointer runs
        assert status["totals"]["events"] == 6 and len(status["recent_commands"]) == 5
        assert status["dead_letters"] == [{"count": 1, "reason": "invalid_utf8", "status": "new"}]

        screenshot = tmp_path / "status.png"
        _chromium(tmp_path, f"http://127.0.0.1:{port}/", f"--screenshot={screenshot}")
        assert screenshot.stat().st_size > 20_000  # a rendered page, not a blank one
        dom = _chromium(tmp_path, f"http://127.0.0.1:{port}/", "--dump-dom")
        assert re.search(r'id="events-total">6<', dom)
        assert re.search(r'id="commands-total">5<', dom)
        assert "invalid_utf8" in dom and status["recent_commands"][0]["message_id"] in dom
        assert status["mapping"]["version"] in dom

        env = {**bridge_env, "BRIDGE_HTTP__PORT": str(port)}
        report = await acli_json(env, "status")
        assert report["bridge"] == {"reachable": True, "ready": True, "last_error": None}
        assert report["mappings"]["matches_running"] is True
        assert report["outbox_backlog"] == 0
        assert sum(p["lag"] for p in report["lag"]) == 0 and len(report["lag"]) == 9
        assert report["dead_letters"] == [{"count": 1, "reason": "invalid_utf8", "status": "new"}]
        assert report["counters"]["events.in"] == 6
        text = (await acli(env, "status")).stdout
        assert "outbox backlog" in text and "invalid_utf8" in text and "Consumer lag" in text
