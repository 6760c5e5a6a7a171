"""The YAML mapping tests in mappings/tests/, collected by pytest (CI runs them)."""

from __future__ import annotations

from pathlib import Path

import pytest

from bridge.mapping import load_mapping_set
from bridge.mapping.testing import CollectedCase, collect, run_case

MAPPINGS = Path(__file__).parents[2] / "mappings"
CASES = collect(MAPPINGS / "tests")
SHIPPED = load_mapping_set(MAPPINGS)


@pytest.mark.parametrize("collected", CASES, ids=[c.id for c in CASES])
def test_yaml_case(collected: CollectedCase) -> None:
    outcome = run_case(SHIPPED, collected)
    assert outcome.passed, outcome.message


def test_a_failing_case_reports_what_differs(tmp_path: Path) -> None:
    (tmp_path / "t.yaml").write_text(
        "tests:\n  - name: wrong\n    table: sn_customerservice_case\n    action: create_problem\n"
        "    record: {short_description: a}\n    expect: {map: other, equals: {short_description: b}}\n"
    )
    outcome = run_case(SHIPPED, collect(tmp_path)[0])
    assert not outcome.passed
    assert "chosen map is 'case_to_problem', expected 'other'" in outcome.message
    assert "short_description: expected 'b', got 'a'" in outcome.message
