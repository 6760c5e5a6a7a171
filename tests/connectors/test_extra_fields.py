"""Unknown extra fields, anywhere, are tolerated and preserved (the contract requires it)."""

from __future__ import annotations

from connectors.catalog import TABLES
from connectors.common import decode_event
from tests.connectors.examples import encode, example


def test_extra_record_fields_are_preserved_in_record_dict() -> None:
    document = example("fsm-work-order-update.json")
    document["record"]["u_customer_po"] = "PO-4471"
    document["record"]["u_dispatch"] = {"zone": "north", "slots": [1, 2]}
    document["record"]["sys_created_on"] = "2026-11-20 08:00:00"

    event = decode_event(encode(document))

    assert event.record_dict() == document["record"]
    assert {name: value for name, value in event.record.items() if name not in TABLES["wm_order"].fields} == {
        "u_customer_po": "PO-4471",
        "u_dispatch": {"zone": "north", "slots": [1, 2]},
        "sys_created_on": "2026-11-20 08:00:00",
    }


def test_extra_keys_inside_a_reference_are_preserved() -> None:
    document = example("csm-contact-insert.json")
    document["record"]["account"]["link"] = "https://csm.example/api/now/table/x"

    event = decode_event(encode(document))

    assert event.record_dict()["account"]["link"] == "https://csm.example/api/now/table/x"
    assert event.ref("account") == "b525434a32dbca42dfd7947056e5217f"


def test_extra_envelope_keys_are_kept_on_the_event() -> None:
    document = example("itsm-request-closed.json")
    document["schema_version"] = "1.1"
    document["_fields_set"] = "collides with a pydantic keyword"
    document["extra"] = "collides with the attribute that holds extra keys"
    document["record_dict"] = "collides with a method name"

    event = decode_event(encode(document))

    assert event.extra == {
        "schema_version": "1.1",
        "_fields_set": "collides with a pydantic keyword",
        "record_dict": "collides with a method name",
        "extra": "collides with the attribute that holds extra keys",
    }
    assert event.to_wire() == document
    assert event.record_dict() == document["record"]


def test_extra_keys_in_journal_entries_are_kept() -> None:
    document = example("itsm-incident-update.json")
    document["journal"][0]["sys_id"] = "f" * 32

    event = decode_event(encode(document))

    assert event.to_wire()["journal"] == document["journal"]
