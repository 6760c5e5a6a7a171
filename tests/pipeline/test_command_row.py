"""An outbox row carries the command's own Kafka key: every command about one record goes to one
partition (an insert's, before the record exists, by its correlation id)."""

from __future__ import annotations

from datetime import datetime, timezone

from bridge.pipeline.outbox import command_row
from connectors.common import CausedBy, Command
from connectors.fsm import commands as fsm

CASE_ID = "c1659a27528573a105244296a480c759"
WO_ID = "c0d129fa05cb918be7383c8696bb6153"
CAUSE = CausedBy(event_id="e-1", source="csm", table="sn_customerservice_case", sys_id=CASE_ID)


def _row(command: Command) -> dict[str, object]:
    return command_row(
        command=command,
        topic="fsm.commands",
        headers={},
        cause_event_id="e-1",
        cause_sys_id=CASE_ID,
        rule="test",
        mapping_version=None,
        now=datetime.now(timezone.utc),
    )


def test_an_update_is_keyed_by_its_target() -> None:
    update = fsm.update("wm_order", WO_ID, {"priority": "1"}, command_id="c-1", caused_by=CAUSE)

    row = _row(update)

    assert row["msg_key"] == WO_ID == update.message_key
    assert (row["target_sys_id"], row["correlation_id"]) == (WO_ID, None)


def test_an_insert_is_keyed_by_its_correlation_id() -> None:
    insert = fsm.insert(
        "wm_order",
        {"short_description": "Printer"},
        command_id="c-2",
        correlation_id=f"case:{CASE_ID}:wo:1",
        caused_by=CAUSE,
    )

    row = _row(insert)

    assert row["msg_key"] == f"case:{CASE_ID}:wo:1" == insert.message_key
    assert (row["target_sys_id"], row["payload"]) == (None, insert.to_json())
