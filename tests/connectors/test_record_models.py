"""The record Structs agree with the contract catalog, table by table."""

from __future__ import annotations

import typing

import msgspec
import pytest

from connectors.catalog import TABLES
from connectors.common import Reference
from connectors.common.registry import record_model, record_models


def _reference_fields(model: type[msgspec.Struct]) -> set[str]:
    return {field.name for field in msgspec.structs.fields(model) if Reference in typing.get_args(field.type)}


@pytest.mark.parametrize("table", sorted(TABLES))
def test_model_fields_are_the_catalog_fields(table: str) -> None:
    spec = TABLES[table]
    model = record_models()[table]

    assert {field.name for field in msgspec.structs.fields(model)} == set(spec.fields)
    assert _reference_fields(model) == set(spec.references)
    assert model.__module__ == f"connectors.{spec.system}.records"


def test_every_model_belongs_to_a_catalog_table() -> None:
    assert set(record_models()) == set(TABLES)


def test_models_default_to_empty_values() -> None:
    record = record_model("sn_customerservice_case")()

    assert (record.number, record.account) == ("", "")  # type: ignore[attr-defined]
    assert all(field.default == "" for field in msgspec.structs.fields(record))


def test_an_empty_reference_is_the_empty_string_never_null() -> None:
    model = record_model("sn_customerservice_case")

    assert msgspec.convert({"account": ""}, model).account == ""  # type: ignore[attr-defined]
    with pytest.raises(msgspec.ValidationError):
        msgspec.convert({"account": None}, model)
