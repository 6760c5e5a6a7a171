"""What a batch writes to the log: a line per dead letter always, a line per event and per
command only when the operator asked for DEBUG (they cost a share of every batch)."""

from __future__ import annotations

import json

import pytest
import structlog
from structlog.testing import capture_logs

from bridge.logs import configure_logging
from bridge.observability import telemetry as telemetry_module
from bridge.observability.telemetry import Telemetry
from bridge.pipeline.batch import BatchResult
from bridge.settings import Settings
from connectors.common import decode_event
from tests.fixtures.events import make_event


def _batch() -> BatchResult:
    event = decode_event(json.dumps(make_event("csm-case-action-create-work-order")).encode())
    command = {
        "kind": "command",
        "message_id": "m-1",
        "target": "fsm",
        "target_table": "wm_order",
        "rule": "case_to_work_order",
        "cause_event_id": event.event_id,
        "mapping_version": "v1",
    }
    dead_letter = {
        "kind": "dead_letter",
        "cause_event_id": "e-bad",
        "mapping_version": "v1",
        "headers": {"x-bridge-reason": "invalid_json", "x-bridge-stage": "decode"},
    }
    return BatchResult(outbox=[command, dead_letter], events=[(event, "applied"), (None, "dead_lettered")])


@pytest.mark.parametrize(("level", "detailed"), [("DEBUG", True), ("INFO", False)])
def test_per_event_lines_only_at_debug(level: str, detailed: bool, monkeypatch: pytest.MonkeyPatch) -> None:
    configure_logging("json", level)
    # A fresh module logger: loggers are cached on first use with the level of that moment.
    monkeypatch.setattr(telemetry_module, "log", structlog.get_logger("bridge.events"))
    telemetry = Telemetry(Settings())
    batch = _batch()
    try:
        with capture_logs() as lines:
            telemetry.on_batch(batch, size=2, seconds=0.01)
    finally:
        configure_logging("json", "INFO")
    names = [line["event"] for line in lines]
    expected = ["event.processed", "event.dead_lettered", "command.emitted"] if detailed else ["event.dead_lettered"]
    assert sorted(names) == sorted(expected)
    assert (telemetry.events, telemetry.commands, telemetry.dead_letters) == (2, 1, 1)
