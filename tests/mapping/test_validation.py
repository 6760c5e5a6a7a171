"""Validation reports every problem at once, positioned, with "did you mean" where it helps."""

from __future__ import annotations

import pytest

from tests.mapping.helpers import diagnostics

MAP_HEAD = """\
version: "1"
table_maps:
  - name: m
    source_table: sn_customerservice_case
    target: {system: fsm, table: wm_order}
"""

# (what, yaml, code, line, col, hint fragment)
CASES = [
    (
        "misspelt key",
        MAP_HEAD + "    conditon: \"record.state == '1'\"\n    fields: [{field: state, set: draft}]\n",
        "unknown-key",
        6,
        5,
        "did you mean 'condition'?",
    ),
    (
        "missing key",
        'version: "1"\ntable_maps:\n  - name: m\n    source_table: sn_customerservice_case\n'
        "    fields: [{field: state, set: draft}]\n",
        "missing-key",
        3,
        5,
        "",
    ),
    ("wrong type", MAP_HEAD + "    order: high\n    fields: [{field: state, set: draft}]\n", "wrong-type", 6, 12, ""),
    (
        "bad literal",
        'version: "1"\nrouting: {resolution_mode: sugest}\n',
        "invalid-value",
        2,
        28,
        "did you mean 'suggest'?",
    ),
    (
        "row with two sources",
        MAP_HEAD + "    fields:\n      - {field: state, set: draft, copy: state}\n",
        "invalid-value",
        7,
        9,
        "",
    ),
    (
        "bad name",
        MAP_HEAD.replace("name: m", "name: 'my map'") + "    fields: [{field: state, set: draft}]\n",
        "invalid-name",
        3,
        11,
        "",
    ),
    (
        "unknown table",
        MAP_HEAD.replace("sn_customerservice_case", "sn_customerservice_cse")
        + "    fields: [{field: state, set: draft}]\n",
        "unknown-table",
        4,
        19,
        "did you mean 'sn_customerservice_case'?",
    ),
    (
        "system mismatch",
        MAP_HEAD.replace("system: fsm", "system: itsm") + "    fields: [{field: state, set: draft}]\n",
        "table-system-mismatch",
        5,
        22,
        "",
    ),
    (
        "unknown target field",
        MAP_HEAD + "    fields:\n      - {field: short_descripton, copy: short_description}\n",
        "unknown-field",
        7,
        17,
        "did you mean 'short_description'?",
    ),
    (
        "unknown source field",
        MAP_HEAD + "    fields:\n      - {field: priority, copy: priorty}\n",
        "unknown-field",
        7,
        33,
        "did you mean 'priority'?",
    ),
    (
        "field read by an expression",
        MAP_HEAD + '    fields:\n      - {field: priority, compute: "record.priorty"}\n',
        "unknown-field",
        7,
        36,
        "did you mean 'priority'?",
    ),
    (
        "bad expression",
        MAP_HEAD + '    condition: "record.state =="\n    fields: [{field: state, set: draft}]\n',
        "bad-expression",
        6,
        16,
        "",
    ),
    (
        "expression without input root",
        MAP_HEAD + "    condition: \"state == '1'\"\n    fields: [{field: state, set: draft}]\n",
        "bad-expression",
        6,
        16,
        "did you mean 'record.state'?",
    ),
    (
        "unknown function",
        MAP_HEAD + '    fields:\n      - {field: priority, compute: "reff(record.priority)"}\n',
        "unknown-function",
        7,
        36,
        "did you mean 'ref'?",
    ),
    (
        "duplicate field",
        MAP_HEAD + "    fields:\n      - {field: state, set: draft}\n      - {field: state, copy: state}\n",
        "duplicate-field",
        8,
        17,
        "",
    ),
    (
        "unknown value map",
        'version: "1"\nvalue_maps:\n  prio: {entries: {"1": "1"}}\n'
        + MAP_HEAD.replace('version: "1"\n', "")
        + "    fields:\n      - {field: priority, copy: priority, value_map: pro}\n",
        "unknown-value-map",
        9,
        54,
        "did you mean 'prio'?",
    ),
    (
        "duplicate map name",
        MAP_HEAD + "    fields: [{field: state, set: draft}]\n  - name: m\n    source_table: sn_customerservice_case\n"
        "    target: {system: fsm, table: wm_order}\n    fields: [{field: state, set: draft}]\n",
        "duplicate-name",
        7,
        11,
        "",
    ),
    (
        "unknown note key",
        'version: "1"\nnotes:\n  incident.coment: {template: "x"}\n',
        "unknown-note-key",
        3,
        3,
        "did you mean 'incident.comment'?",
    ),
    (
        "unknown placeholder",
        'version: "1"\nnotes:\n  incident.comment: {template: "{numbr}: {text}"}\n',
        "unknown-placeholder",
        3,
        32,
        "did you mean 'number'?",
    ),
    (
        "bad template",
        'version: "1"\nnotes:\n  incident.comment: {template: "{number: {text}"}\n',
        "bad-template",
        3,
        32,
        "",
    ),
    (
        "state without close fields",
        'version: "1"\nrouting:\n  case_fields_to_sync: [priority, state, close_notes]\n',
        "state-requires-close-fields",
        3,
        24,
        "add resolution_code",
    ),
    (
        "unknown state",
        'version: "1"\nsync:\n  - {source_table: sn_customerservice_case, target_table: wm_order,'
        " fields: {priority: {unless_target_state: [closed_completed]}}}\n",
        "unknown-state",
        3,
        111,
        "did you mean 'closed_complete'?",
    ),
    (
        "unknown related role",
        'version: "1"\nderived:\n  wm_order:\n    - {field: location, first_of: [{related: cmdb, field: location}]}\n',
        "unknown-role",
        4,
        46,
        "did you mean 'cmdb_ci'?",
    ),
    (
        "derived field synced",
        'version: "1"\nderived:\n  wm_order:\n'
        "    - {field: location, first_of: [{related: case, field: location}]}\n"
        "sync:\n  - source_table: sn_customerservice_case\n    target_table: wm_order\n"
        "    fields: {location: always}\n",
        "derived-field-synced",
        8,
        14,
        "remove it from the sync fields",
    ),
    (
        "unknown field of a CI",
        'version: "1"\nderived:\n  wm_order:\n    - {field: location, first_of: [{related: cmdb_ci, field: site}]}\n',
        "unknown-field",
        4,
        62,
        "",
    ),
    ("missing version", "notes: {}\n", "missing-version", 1, 1, ""),
    ("lookup file missing", 'version: "1"\nvalue_maps:\n  p: {file: lookups/nope.yaml}\n', "lookup-file", 3, 13, ""),
    (
        "lookup outside the folder",
        'version: "1"\nvalue_maps:\n  p: {file: ../secrets.yaml}\n',
        "lookup-file",
        3,
        13,
        "",
    ),
]


@pytest.mark.parametrize(("yaml", "code", "line", "col", "hint"), [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_each_error_class_points_at_its_line_and_column(yaml: str, code: str, line: int, col: int, hint: str) -> None:
    found = [(d.code, d.line, d.col, d.hint) for d in diagnostics(yaml)]
    assert any(c == code and (ln, cl) == (line, col) for c, ln, cl, _ in found), found
    assert hint in next(h for c, _, _, h in found if c == code)


def test_all_errors_are_reported_at_once_across_files() -> None:
    found = diagnostics(
        MAP_HEAD + "    fields:\n      - {field: priorty, copy: priority}\n      - {field: state, copy: stat}\n",
        'notes:\n  incident.comment: {template: "{who}"}\nversion: "2"\n',
    )
    assert [(d.file, d.line, d.code) for d in found] == [
        ("m0.yaml", 7, "unknown-field"),
        ("m0.yaml", 8, "unknown-field"),
        ("m1.yaml", 2, "unknown-placeholder"),
        ("m1.yaml", 3, "duplicate-section"),
    ]


def test_a_diagnostic_reads_like_a_compiler_error_with_a_caret() -> None:
    found = diagnostics(MAP_HEAD + "    fields:\n      - {field: priority, copy: priorty}\n")
    assert found[0].format() == (
        "m0.yaml:7:33: error[unknown-field] table_maps[0].fields[0].copy: table 'sn_customerservice_case' has no field"
        " 'priorty' (did you mean 'priority'?)\n"
        "    7 |       - {field: priority, copy: priorty}\n"
        "      |                                 ^"
    )


def test_a_bad_lookup_file_is_reported_in_that_file() -> None:
    found = diagnostics(
        'version: "1"\nvalue_maps:\n  p: {file: lookups/p.yaml}\n', lookups={"lookups/p.yaml": '"1": [a]\n'}
    )
    assert [(d.file, d.line, d.code) for d in found] == [("lookups/p.yaml", 1, "wrong-type")]


def test_schema_and_semantic_problems_of_one_file_come_in_one_pass() -> None:
    """A file with schema errors is still checked for the rest: the unknown table of a map with
    a misspelt key, the unknown field of a map whose `order` is wrong, the row after a broken
    row, a map after a broken one — each reported with the file's own line and index."""
    found = diagnostics(
        'version: "1"\n'
        "table_maps:\n"
        "  - name: a\n"
        "    source_table: sn_customerservice_cse\n"  # 4: unknown table
        "    target: {system: fsm, table: wm_order}\n"
        "    conditon: x\n"  # 6: unknown key
        "    fields:\n"
        "      - {field: state, set: draft, copy: state}\n"  # 8: two sources
        "      - {field: priorty, copy: priority}\n"  # 9: unknown target field
        "  - name: b\n"
        "    source_table: sn_customerservice_case\n"
        "    target: {system: fsm, table: wm_order}\n"
        "    order: high\n"  # 13: wrong type
        "    fields: [{field: short_descripton, copy: short_description}]\n"  # 14: unknown field
        "  - name: c\n"
        "    source_table: sn_customerservice_case\n"
        "    target: {system: xsm, table: wm_order}\n"  # 17: bad literal: map left out
        "    fields: [{field: nope, copy: nope}]\n"
        "  - name: d\n"
        "    source_table: sn_customerservice_case\n"
        "    target: {system: fsm, table: wm_order}\n"
        "    fields: [{field: short_description, copy: short_descripton}]\n",  # 22
    )
    assert [(d.line, d.code, d.path) for d in found] == [
        (4, "unknown-table", "table_maps[0].source_table"),
        (6, "unknown-key", "table_maps[0].conditon"),
        (8, "invalid-value", "table_maps[0].fields[0]"),
        (9, "unknown-field", "table_maps[0].fields[1].field"),
        (13, "wrong-type", "table_maps[1].order"),
        (14, "unknown-field", "table_maps[1].fields[0].field"),
        (17, "invalid-value", "table_maps[2].target.system"),
        (22, "unknown-field", "table_maps[3].fields[0].copy"),
    ]


def test_a_part_left_out_causes_no_problem_of_its_own() -> None:
    """An invalid value map is still declared (its users get no "no value map named"), an
    invalid `version` still counts (no "missing version")."""
    found = diagnostics(
        "version: true\nvalue_maps:\n  prio: {entries: {'1': '1'}, fle: x}\n",
        MAP_HEAD.replace('version: "1"\n', "")
        + "    fields:\n      - {field: priority, copy: priority, value_map: prio}\n",
    )
    assert [(d.file, d.line, d.code) for d in found] == [("m0.yaml", 1, "wrong-type"), ("m0.yaml", 3, "unknown-key")]
