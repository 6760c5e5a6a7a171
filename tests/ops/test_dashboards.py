"""The Grafana dashboard and the Prometheus alert rules under deploy/ name only metrics (and
labels) a running bridge really exports: read off its /metrics over HTTP after real traffic."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
import yaml
from prometheus_client.parser import text_string_to_metric_families

from bridge.settings import Settings
from tests.e2e.kafka_io import collect, produce
from tests.fixtures.events import make_event, new_sys_id
from tests.ops.helpers import http_get, running_bridge, wait_until

ROOT = Path(__file__).resolve().parents[2]
DASHBOARD = json.loads((ROOT / "deploy" / "grafana" / "csm-fsm-bridge.json").read_text())
ALERTS = yaml.safe_load((ROOT / "deploy" / "prometheus" / "alerts.yaml").read_text())
#: labels Prometheus adds to every scraped series, and a histogram bucket's bound
SCRAPE_LABELS = {"instance", "job", "le"}
REQUIRED_ALERTS = {
    "BridgeConsumerLagGrowing",
    "BridgeDeadLetters",
    "BridgeOutboxBacklog",
    "BridgeOutboxRowsRefused",
    "BridgeNotReady",
}


def _alert_rules() -> list[dict[str, Any]]:
    return [rule for group in ALERTS["groups"] for rule in group["rules"]]


def _dashboard_expressions() -> list[str]:
    found = []
    for panel in DASHBOARD["panels"]:
        found += [target["expr"] for target in panel.get("targets", [])]
    for variable in DASHBOARD["templating"]["list"]:
        if isinstance(variable.get("query"), dict):
            found.append(variable["query"]["query"])
    return found


def _expressions() -> list[str]:
    return [rule["expr"] for rule in _alert_rules()] + _dashboard_expressions()


def _exported(text: str) -> dict[str, set[str] | None]:
    """Sample name → its label names (None: no sample yet, so its labels are unknown)."""
    suffixes = {
        "counter": ("_total", "_created"),
        "gauge": ("",),
        "histogram": ("_bucket", "_count", "_sum", "_created"),
        "summary": ("_count", "_sum", "_created"),
    }
    exported: dict[str, set[str] | None] = {}
    for family in text_string_to_metric_families(text):
        for suffix in suffixes.get(family.type, ("",)):
            exported.setdefault(family.name + suffix, None)
        for sample in family.samples:
            known = exported.get(sample.name) or set()
            exported[sample.name] = known | set(sample.labels)
    return exported


def test_the_rules_cover_what_an_operator_must_hear_about() -> None:
    rules = _alert_rules()
    assert REQUIRED_ALERTS <= {rule["alert"] for rule in rules}
    for rule in rules:
        assert rule["labels"]["severity"] in {"warning", "critical"}, rule["alert"]
        assert rule["annotations"]["summary"] and rule["annotations"]["description"], rule["alert"]


def test_every_dashboard_panel_queries_something() -> None:
    panels = [p for p in DASHBOARD["panels"] if p["type"] != "row"]
    assert panels and all(p.get("targets") for p in panels)
    assert len({p["id"] for p in DASHBOARD["panels"]}) == len(DASHBOARD["panels"])


@pytest.mark.kafka
async def test_every_metric_the_dashboard_and_alerts_name_is_on_the_bridges_metrics(
    bridge_settings: Settings, bridge_env: dict[str, str], tmp_path: Path
) -> None:
    with running_bridge(bridge_env, tmp_path / "bridge.log") as port:
        # traffic, so that the labelled series exist (a command, a dead letter, some lag)
        cases = [make_event("csm-case-action-create-work-order", sys_id=new_sys_id()) for _ in range(2)]
        await produce(bridge_settings, [*cases, b"\xff not utf-8"], topic=bridge_settings.topics.csm_events)
        await collect(bridge_settings, bridge_settings.topics.fsm_commands, lambda m: len(m) >= 2)

        def sampled() -> str | None:
            text = http_get(port, "/metrics")[1].decode()
            return text if "bridge_consumer_lag{" in text and "bridge_ready 1.0" in text else None

        text = wait_until(sampled, timeout_s=30)
        assert text, "the sampler did not report lag and readiness"
    exported = _exported(text)

    for expression in _expressions():
        named = set(re.findall(r"\bbridge_[a-z_]+\b", expression))
        assert named, f"names no bridge metric: {expression}"
        missing = named - exported.keys()
        assert not missing, f"{sorted(missing)} are not on /metrics (in: {expression})"
        # every label an aggregation groups by, or a selector matches, is one of these metrics'
        labels = {
            label
            for group in re.findall(r"\bby \(([^)]*)\)", expression)
            for label in re.split(r"\s*,\s*", group.strip())
        }
        labels |= set(re.findall(r"[{,]\s*([a-z_]+)\s*=~?", expression))
        known = set().union(*(exported[name] or set() for name in named)) | SCRAPE_LABELS
        if all(exported[name] is not None for name in named):
            assert labels <= known, f"{sorted(labels - known)} is no label of {sorted(named)}"
