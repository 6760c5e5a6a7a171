"""How a record's field reads as a reference or as text: one rule for every reader (flows, the
store, the visibility index, the mappings' templates, explain and inspect)."""

from __future__ import annotations

from typing import Any

import pytest

from connectors.common.values import as_text, ref, sys_id_of, text

SYS_ID = "c1659a27528573a105244296a480c759"
RECORD: dict[str, Any] = {
    "account": {"value": SYS_ID, "display_value": "Acme"},
    "unlabelled": {"value": SYS_ID, "display_value": ""},
    "empty_reference": "",
    "number": "CS0001",
    "active": True,
    "count": 3,
    "nothing": None,
}


@pytest.mark.parametrize(
    ("field", "expected"),
    [
        ("account", SYS_ID),
        ("unlabelled", SYS_ID),
        ("empty_reference", ""),
        ("number", ""),
        ("absent", ""),
        ("nothing", ""),
    ],
)
def test_a_reference_reads_as_its_sys_id_and_anything_else_as_empty(field: str, expected: str) -> None:
    assert ref(RECORD, field) == expected == sys_id_of(RECORD.get(field))


@pytest.mark.parametrize(
    ("field", "expected"),
    [
        ("account", "Acme"),
        ("unlabelled", SYS_ID),
        ("empty_reference", ""),
        ("number", "CS0001"),
        ("active", "true"),
        ("count", "3"),
        ("absent", ""),
        ("nothing", ""),
    ],
)
def test_a_field_reads_as_text_a_reference_as_its_label(field: str, expected: str) -> None:
    assert text(RECORD, field) == expected == as_text(RECORD.get(field))


def test_a_malformed_reference_reads_as_empty() -> None:
    record = {"parent": {"value": 7, "display_value": None}}

    assert (ref(record, "parent"), text(record, "parent")) == ("", "")
