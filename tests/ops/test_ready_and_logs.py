"""Readiness follows the broker; logs and dead-letter headers never carry personal data or
secrets, whatever the input."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from bridge.kafka.admin import create_topics
from bridge.settings import Settings
from bridgedev.kafka.local_broker import LocalKafka
from tests.e2e.kafka_io import collect, produce
from tests.fixtures.events import make_event, new_sys_id
from tests.fixtures.kafka import settings_as_env, unique_test_settings
from tests.ops.helpers import http_get, running_bridge, wait_until

pytestmark = pytest.mark.kafka

CANARY_EMAIL = "zelda.canary@example.org"
CANARY_NAME = "Zelda Canarywhistle"
CANARY_PHONE = "+44 20 7946 0958"
CANARY_SECRET = "s3cret-CANARY-7f3a"


async def test_ready_fails_when_the_broker_stops(own_kafka: LocalKafka, tmp_path: Path) -> None:
    settings = unique_test_settings(own_kafka.bootstrap_servers, tmp_path)
    await create_topics(settings)
    with running_bridge(settings_as_env(settings), tmp_path / "bridge.log") as port:
        await own_kafka.stop(keep_data=True)

        def not_ready() -> dict | None:
            status, body = http_get(port, "/ready", timeout=15)
            return json.loads(body) if status == 503 else None

        report = wait_until(not_ready, timeout_s=30)
        assert report, "still ready with the broker stopped"
        assert report["checks"]["broker"]["ok"] is False
        assert report["checks"]["store"]["ok"] and report["checks"]["mappings"]["ok"]
        assert http_get(port, "/health")[0] == 200  # alive, just not ready
        await own_kafka.restart()
        assert wait_until(lambda: http_get(port, "/ready", timeout=15)[0] == 200, timeout_s=45)


async def test_canaries_never_reach_logs_or_dead_letter_headers(
    bridge_settings: Settings, bridge_env: dict[str, str], tmp_path: Path
) -> None:
    personal = {"short_description": f"Call {CANARY_NAME} at {CANARY_PHONE}", "description": f"mail {CANARY_EMAIL}"}
    good = make_event("csm-case-action-create-work-order", sys_id=new_sys_id(), record=personal)
    missing_field = make_event("csm-case-insert", sys_id=new_sys_id(), record=personal)
    del missing_field["sys_mod_count"]
    wrong_type = make_event(
        "csm-contact-insert",
        sys_id=new_sys_id(),
        record={"email": CANARY_EMAIL, "name": CANARY_NAME, "phone": CANARY_PHONE},
    )
    wrong_type["sys_mod_count"] = {"value": CANARY_EMAIL}
    bad_json = f'{{"note": "{CANARY_NAME} {CANARY_EMAIL}", '.encode()
    env = {**bridge_env, "BRIDGE_HTTP__PORTAL_TOKEN": CANARY_SECRET, "BRIDGE_LOG_LEVEL": "DEBUG"}
    log = tmp_path / "bridge.log"
    with running_bridge(env, log):
        await produce(
            bridge_settings,
            [good, missing_field, wrong_type, bad_json, json.dumps(good).encode()[:-5]],
            topic=bridge_settings.topics.csm_events,
        )
        dlq = await collect(bridge_settings, bridge_settings.topics.dead_letters, lambda m: len(m) >= 4)
        await collect(bridge_settings, bridge_settings.topics.fsm_commands, lambda m: len(m) >= 1)
    output = log.read_text()
    assert "event.dead_lettered" in output and "batch.done" in output  # the logs are there
    headers = " ".join(f"{k}={v.decode(errors='replace')}" for m in dlq for k, v in m.headers)
    assert {h for m in dlq for h, _ in m.headers} >= {"x-bridge-reason", "x-bridge-stage"}
    for canary in (CANARY_EMAIL, CANARY_NAME, CANARY_PHONE, CANARY_SECRET, "Canarywhistle", "7946 0958"):
        assert canary not in output, f"{canary!r} leaked into the logs"
        assert canary not in headers, f"{canary!r} leaked into dead-letter headers"
