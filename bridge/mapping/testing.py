"""Mapping tests written in YAML next to the mappings (`mappings/tests/*.yaml`).

    tests:
      - name: a case becomes a draft work order
        event: events/csm-case-action-create-work-order.json   # relative to the test file
        table: sn_order_case          # optional overrides of the event: table, action,
        record: {priority: "1"}       # action_args, sys_id, and record fields (merged)
        related: {cmdb_ci: {location: {value: "…", display_value: "…"}}}
        expect:
          map: case_to_work_order     # the chosen map
          contains: {state: draft}    # a subset of the fields (or `equals`: all of them)
      - name: nothing maps a work order from a customer account
        table: customer_account
        action: create_work_order
        expect: {nothing: true}
      - name: a misspelt field is refused
        mapping: |                    # an inline mapping set that must fail validation
          version: "1"
          ...
        expect: {error: {code: unknown-field, line: 7}}

Run with `bridge mappings test`; pytest collects the same cases (tests/mapping/test_yaml_cases.py).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from bridge.mapping import vocabulary
from bridge.mapping.diagnostics import Diagnostic, MappingError, MappingValidationError
from bridge.mapping.engine import MappingSet
from bridge.mapping.loader import MappingSources, build_mapping_set
from bridge.mapping.model_errors import diagnostics_from
from bridge.mapping.safe_yaml import read_yaml
from bridge.mapping.spec import Text


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, hide_input_in_errors=True)


class ExpectedError(_Model):
    code: str
    line: int | None = None


class Expect(_Model):
    map: str | None = None
    equals: dict[str, Text] | None = None
    contains: dict[str, Text] | None = None
    nothing: bool = False
    error: ExpectedError | None = None


class YamlCase(_Model):
    name: str
    event: str | None = None
    table: str | None = None
    action: str | None = None
    action_args: dict[str, Any] | None = None
    sys_id: str | None = None
    record: dict[str, Any] = Field(default_factory=dict)
    related: dict[str, dict[str, Any]] = Field(default_factory=dict)
    target_table: str | None = None
    mapping: str | None = None
    expect: Expect


class YamlTestFile(_Model):
    tests: list[YamlCase] = Field(min_length=1)


@dataclass(frozen=True, slots=True)
class CollectedCase:
    file: Path
    case: YamlCase

    @property
    def id(self) -> str:
        return f"{self.file.stem}::{self.case.name}"


@dataclass(frozen=True, slots=True)
class CaseOutcome:
    case: CollectedCase
    passed: bool
    message: str


def collect(tests_dir: Path) -> list[CollectedCase]:
    """Every case in `tests_dir/*.yaml`; a malformed test file raises `MappingValidationError`."""
    cases: list[CollectedCase] = []
    problems: list[Diagnostic] = []
    for file in sorted(tests_dir.glob("*.yaml")):
        doc = read_yaml(str(file), file.read_bytes())
        if isinstance(doc, Diagnostic):
            problems.append(doc)
            continue
        try:
            parsed = YamlTestFile.model_validate(doc.data)
        except ValidationError as error:
            problems += diagnostics_from(error, doc, YamlTestFile)
            continue
        cases += [CollectedCase(file, case) for case in parsed.tests]
    if problems:
        raise MappingValidationError(problems)
    return cases


def run_case(mapping_set: MappingSet, collected: CollectedCase) -> CaseOutcome:
    """Run one case against the set; the outcome says what differed."""
    case = collected.case
    if case.mapping is not None:
        return _outcome(collected, _check_error(case))
    try:
        event = _event(collected)
        target = case.target_table or vocabulary.ACTION_TARGETS.get(event.get("action") or "", "")
        if not target:
            return _outcome(collected, "no target table: give an action that creates a record, or target_table")
        result = mapping_set.map_record(
            event["table"],
            target,
            event["record"],
            case.related,
            action_args=event.get("action_args") or {},
            sys_id=event.get("sys_id"),
        )
    except MappingError as error:
        return _outcome(collected, f"mapping error: {error}")
    except (OSError, ValueError, KeyError, TypeError) as error:
        return _outcome(collected, f"cannot read the test input: {error}")
    expect = case.expect
    if expect.nothing:
        return _outcome(collected, "" if result is None else f"expected nothing, map '{result.map_name}' was chosen")
    if result is None:
        return _outcome(collected, "no map was chosen")
    problems = []
    if expect.map is not None and result.map_name != expect.map:
        problems.append(f"chosen map is '{result.map_name}', expected '{expect.map}'")
    if expect.equals is not None and result.fields != expect.equals:
        problems.append(f"fields differ: {_diff(expect.equals, result.fields)}")
    if expect.contains is not None:
        wrong = {k: v for k, v in expect.contains.items() if result.fields.get(k) != v}
        if wrong:
            problems.append(f"fields differ: {_diff(wrong, result.fields)}")
    return _outcome(collected, "; ".join(problems))


def _event(collected: CollectedCase) -> dict[str, Any]:
    case = collected.case
    event: dict[str, Any] = {"operation": "action", "action_args": {}, "record": {}}
    if case.event is not None:
        event = json.loads((collected.file.parent / case.event).read_text(encoding="utf-8"))
    for key in ("table", "action", "action_args", "sys_id"):
        if getattr(case, key) is not None:
            event[key] = getattr(case, key)
    event["record"] = {**event.get("record", {}), **case.record}
    if "table" not in event:
        raise ValueError("the case names no table (give `table` or an `event` file)")
    return event


def _check_error(case: YamlCase) -> str:
    expected = case.expect.error
    if expected is None:
        return "an inline `mapping` needs `expect: {error: {code: ...}}`"
    try:
        build_mapping_set(MappingSources({"inline.yaml": (case.mapping or "").encode()}))
    except MappingValidationError as error:
        found = [d for d in error.diagnostics if d.code == expected.code and expected.line in (None, d.line)]
        if found:
            return ""
        return "expected error[{}]{}, got: {}".format(
            expected.code,
            f" on line {expected.line}" if expected.line else "",
            "; ".join(f"{d.line}:{d.col} {d.code}" for d in error.diagnostics),
        )
    return f"expected error[{expected.code}], but the mapping is valid"


def _diff(expected: dict[str, str], actual: dict[str, str]) -> str:
    keys = sorted(set(expected) | set(actual))
    return ", ".join(
        f"{k}: expected {expected.get(k)!r}, got {actual.get(k)!r}" for k in keys if expected.get(k) != actual.get(k)
    )


def _outcome(collected: CollectedCase, problem: str) -> CaseOutcome:
    return CaseOutcome(collected, not problem, problem or "ok")
