"""CSM ↔ ITSM through the real broker: create an incident from a case, ITSM answers, the case is
linked, and the incident's updates come back as case work notes."""

from __future__ import annotations

from typing import Any

import pytest

from bridge.settings import Settings
from tests.e2e.kafka_io import collect, commands, produce
from tests.fixtures.events import make_event, new_sys_id

pytestmark = pytest.mark.kafka


async def test_incident_from_a_case_links_back_and_reports_on_the_case(
    bridge_settings: Settings, bridge_process: Any
) -> None:
    bridge_process()
    case = make_event("csm-case-insert")
    action = make_event("csm-case-action-create-work-order", action="create_incident")
    await produce(bridge_settings, [case, action])
    [insert] = commands(await collect(bridge_settings, bridge_settings.topics.itsm_commands, lambda m: len(m) >= 1))
    assert (insert["table"], insert["operation"]) == ("incident", "insert")
    assert insert["fields"]["short_description"] == case["record"]["short_description"]

    incident_id = new_sys_id()
    answer = make_event(
        "itsm-incident-update",
        operation="insert",
        sys_id=incident_id,
        sys_mod_count=0,
        changed_fields=[],
        journal=[],
        caused_by_command=insert["command_id"],
        record={"state": "1", "hold_reason": "", "correlation_id": insert["correlation_id"]},
    )
    on_hold = make_event("itsm-incident-update", sys_id=incident_id, journal=[])
    await produce(bridge_settings, [answer, on_hold])
    csm = commands(await collect(bridge_settings, bridge_settings.topics.csm_commands, lambda m: len(m) >= 2))
    link = next(c for c in csm if c["fields"])
    assert link["sys_id"] == case["sys_id"] and link["fields"] == {"incident": incident_id}
    notes = [c["journal"][0]["value"] for c in csm if c["journal"]]
    assert "Incident INC0012001 is On Hold (Awaiting Vendor)" in notes
