"""S4: canary secrets and personal data never appear in the bridge's logs or DLQ headers —
through valid events, dead-lettered events of several classes, DEBUG logging and a settings
error at start-up."""

from __future__ import annotations

import copy
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from bridge.settings import Settings
from bridgedev.simulate import SimMessage
from tests.fixtures.events import make_event, new_sys_id, ref
from tests.reliability.drive import Progress
from tests.reliability.fleet import Fleet
from tests.reliability.kafka_tools import produce_messages, published

pytestmark = pytest.mark.kafka

TOKEN = "tok-CANARY-5e1f0c9a7b"
EMAIL = "zebulon.canary@canary-mail.example"
PHONE = "+41 79 555 01 23"
NAME = "Zebulon Canaryfield"
CANARIES = (TOKEN, EMAIL, PHONE, NAME, "Canaryfield", "canary-mail")


def _message(event: dict | bytes, key: str) -> SimMessage:
    """Keyed by the record's real sys_id, as a system would (the key is not under test)."""
    if isinstance(event, bytes):
        return SimMessage("csm", key.encode(), event, "malformed")
    return SimMessage(event["source"], key.encode(), json.dumps(event).encode(), "test", event)


def canary_events() -> list[SimMessage]:
    """A contact and a case full of personal data, a work order request, and bad copies."""
    contact = make_event(
        "csm-contact-insert", sys_id=new_sys_id(), record={"name": NAME, "email": EMAIL, "phone": PHONE}
    )
    text = f"Call {NAME} at {PHONE} or write to {EMAIL}"
    case_id = new_sys_id()
    case = make_event(
        "csm-case-insert",
        sys_id=case_id,
        record={"contact": ref(contact["sys_id"], NAME), "short_description": text, "description": text},
    )
    action = make_event(
        "csm-case-action-create-work-order",
        sys_id=case_id,
        record={"contact": ref(contact["sys_id"], NAME), "short_description": text, "description": text},
    )
    missing = copy.deepcopy(contact) | {"event_id": new_sys_id()}
    del missing["sys_id"]
    wrong_type = copy.deepcopy(case) | {"event_id": new_sys_id(), "journal": EMAIL}
    bad_reference = copy.deepcopy(case) | {"event_id": new_sys_id()}
    bad_reference["record"]["contact"] = {"value": EMAIL, "display_value": NAME}
    unknown_table = copy.deepcopy(contact) | {"event_id": new_sys_id(), "table": f"x_{NAME}"}
    bad_sys_id = copy.deepcopy(contact) | {"event_id": new_sys_id(), "sys_id": EMAIL}
    truncated = json.dumps(contact).encode()[:120]
    keys = [
        contact["sys_id"],
        case_id,
        case_id,
        contact["sys_id"],
        case_id,
        case_id,
        contact["sys_id"],
        contact["sys_id"],
        contact["sys_id"],
    ]
    events = (contact, case, action, missing, wrong_type, bad_reference, unknown_table, bad_sys_id, truncated)
    return [_message(event, key) for event, key in zip(events, keys, strict=True)]


def _assert_clean(text: str, where: str) -> None:
    found = [c for c in CANARIES if c.lower() in text.lower()]
    assert not found, f"canaries {found} in {where}"


async def test_no_canary_in_logs_or_dead_letter_headers(bridge_settings: Settings, fleet: Fleet) -> None:
    fleet.env.update(BRIDGE_HTTP__PORTAL_TOKEN=TOKEN, BRIDGE_LOG_LEVEL="DEBUG")
    messages = canary_events()
    await produce_messages(bridge_settings, messages)
    life = fleet.start()
    async with Progress(bridge_settings) as progress:
        await progress.wait_drained(60, alive=life)
    await fleet.terminate(life)

    found = await published(bridge_settings)
    assert len(found.dead_letters) == 6, "the bad copies were dead-lettered"
    assert any(NAME in p.decode() for copies in found.commands.values() for p in copies), (
        "the canaries did travel through the bridge (commands carry them, as they should)"
    )
    for record in found.dead_letters:
        _assert_clean(json.dumps([(k, v.decode()) for k, v in record.headers]), "DLQ headers")
    log = fleet.log_text()
    assert '"batch.done"' in log and "DEBUG" in log.upper()
    _assert_clean(log, "the bridge's log")


def test_a_settings_error_does_not_echo_the_secret_or_the_bad_value(tmp_path: Path) -> None:
    env = {
        **os.environ,
        "BRIDGE_HTTP__PORTAL_TOKEN": TOKEN,
        "BRIDGE_CONSUMER__MAX_RECORDS": EMAIL,
        "BRIDGE_HTTP__PORT": PHONE,
        "BRIDGE_STORE__URL": f"sqlite+aiosqlite:///{tmp_path / 'b.db'}",
    }
    done = subprocess.run([sys.executable, "-m", "cli", "run"], env=env, capture_output=True, text=True, timeout=60)
    assert done.returncode != 0
    output = done.stdout + done.stderr
    assert "BRIDGE_CONSUMER__MAX_RECORDS" in output  # it names the variable that is wrong …
    _assert_clean(output, "the start-up error")  # … without repeating the values
