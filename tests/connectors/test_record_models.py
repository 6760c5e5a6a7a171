"""The record models agree with the contract catalog, table by table."""

from __future__ import annotations

import typing

import pytest

from connectors.catalog import TABLES
from connectors.common import Reference
from connectors.common.registry import record_models
from connectors.csm.records import CaseRecord


def _reference_fields(model: type) -> set[str]:
    return {name for name, info in model.model_fields.items()
            if Reference in typing.get_args(info.annotation)}


@pytest.mark.parametrize("table", sorted(TABLES))
def test_model_fields_are_the_catalog_fields(table: str) -> None:
    spec = TABLES[table]
    model = record_models()[table]

    assert set(model.model_fields) == set(spec.fields)
    assert _reference_fields(model) == set(spec.references)
    assert model.__module__ == f"connectors.{spec.system}.records"


def test_every_model_belongs_to_a_catalog_table() -> None:
    assert set(record_models()) == set(TABLES)


def test_models_default_to_empty_values() -> None:
    record = CaseRecord()

    assert (record.number, record.account, record.work_notes) == ("", None, "")
    assert record.to_wire() == {}


def test_python_construction_accepts_none_for_an_empty_reference() -> None:
    assert CaseRecord(account=None).to_wire() == {"account": ""}
