"""Small builders for mapping tests: a set from YAML text, without files."""

from __future__ import annotations

import textwrap

import pytest

from bridge.mapping import MappingSet, MappingSources, MappingValidationError, build_mapping_set
from bridge.mapping.diagnostics import Diagnostic

CASE_ID = "c1659a27528573a105244296a480c759"
ACCOUNT = {"value": "b525434a32dbca42dfd7947056e5217f", "display_value": "Acme Corp"}
CONTACT = {"value": "bc426cb526c586b3fe29fb306dbd2614", "display_value": "Ada Lovelace"}


def build(*texts: str, lookups: dict[str, str] | None = None, add_version: bool = True) -> MappingSet:
    """A mapping set from YAML texts (file i is `m<i>.yaml`); the first gets a version if none has one."""
    files = {f"m{i}.yaml": textwrap.dedent(t).encode() for i, t in enumerate(texts)}
    if add_version and b"version:" not in b"".join(files.values()):
        files["m0.yaml"] = b'version: "t1"\n' + files["m0.yaml"]
    encoded = {k: textwrap.dedent(v).encode() for k, v in (lookups or {}).items()}
    return build_mapping_set(MappingSources(files, encoded))


def diagnostics(*texts: str, lookups: dict[str, str] | None = None) -> tuple[Diagnostic, ...]:
    with pytest.raises(MappingValidationError) as caught:
        build(*texts, lookups=lookups, add_version=False)
    return caught.value.diagnostics


def case_record(**overrides: object) -> dict[str, object]:
    record: dict[str, object] = {
        "number": "CS0001001",
        "sys_class_name": "sn_customerservice_case",
        "state": "10",
        "priority": "2",
        "account": ACCOUNT,
        "contact": CONTACT,
        "consumer": "",
        "location": "",
        "short_description": "Printer jams",
        "description": "Floor 3",
    }
    record.update(overrides)
    return record
