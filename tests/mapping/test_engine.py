"""The engine: map precedence, rows, value maps, derived fields, sync policies, purity."""

from __future__ import annotations

import copy

import pytest

from bridge.mapping import MappingError
from tests.mapping.helpers import ACCOUNT, CASE_ID, CONTACT, build, case_record


def _map(
    name: str,
    *,
    order: int = 100,
    source: str = "sn_customerservice_case",
    active: bool = True,
    condition: str | None = None,
    rows: str = "[{field: short_description, set: NAME}]",
) -> str:
    cond = f'\n    condition: "{condition}"' if condition else ""
    return (
        f"  - name: {name}\n    source_table: {source}\n    target: {{system: fsm, table: wm_order}}\n"
        f"    order: {order}\n    active: {str(active).lower()}{cond}\n    fields: {rows.replace('NAME', name)}\n"
    )


def _chosen(*maps: str, table: str = "sn_customerservice_case", record: dict | None = None) -> str | None:
    mapping_set = build("table_maps:\n" + "".join(maps))
    result = mapping_set.map_record(table, "wm_order", record or case_record())
    return None if result is None else result.map_name


def test_highest_order_wins() -> None:
    assert _chosen(_map("low", order=100), _map("high", order=200)) == "high"


def test_on_a_tie_the_map_declared_first_wins() -> None:
    assert _chosen(_map("first"), _map("second")) == "first"


def test_a_tie_across_files_goes_to_the_file_sorted_first() -> None:
    mapping_set = build("table_maps:\n" + _map("in_m0"), "table_maps:\n" + _map("in_m1"))
    assert mapping_set.map_record("sn_customerservice_case", "wm_order", case_record()).map_name == "in_m0"


def test_inactive_maps_are_skipped() -> None:
    assert _chosen(_map("off", order=300, active=False), _map("on")) == "on"


def test_a_false_condition_skips_the_map() -> None:
    maps = (_map("p1_only", order=300, condition="record.priority == '1'"), _map("general"))
    assert _chosen(*maps) == "general"
    assert _chosen(*maps, record=case_record(priority="1")) == "p1_only"


def test_a_map_for_the_base_table_applies_to_an_extending_table_but_not_the_reverse() -> None:
    assert _chosen(_map("case_map"), table="sn_order_case") == "case_map"
    assert _chosen(_map("order_map", source="sn_order_case")) is None
    maps = (_map("case_map"), _map("order_map", source="sn_order_case", order=200))
    assert _chosen(*maps, table="sn_order_case") == "order_map"


def test_no_matching_map_gives_none() -> None:
    assert _chosen(_map("off", active=False)) is None


def test_explain_says_why_each_map_was_or_was_not_chosen() -> None:
    mapping_set = build(
        "table_maps:\n"
        + _map("off", active=False)
        + _map("cond", order=300, condition="record.priority == '1'")
        + _map("order_only", source="sn_order_case")
        + _map("winner")
        + _map("later")
    )
    candidates = mapping_set.explain_map_choice("sn_customerservice_case", "wm_order", case_record())
    reasons = {c.name: (c.chosen, c.reason) for c in candidates}
    assert reasons["winner"][0] and "chosen" in reasons["winner"][1]
    assert reasons["off"] == (False, "inactive")
    assert reasons["cond"] == (False, "condition is false: record.priority == '1'")
    assert "neither 'sn_customerservice_case' nor a table it extends" in reasons["order_only"][1]
    assert reasons["later"] == (False, "matches, but declared after 'winner' with the same order 100")


def test_rows_copy_references_as_sys_id_set_constants_and_compute_overrides_copy() -> None:
    rows = (
        "\n      - {field: short_description, compute: \"concat(record.number, ' ', record.short_description)\"}"
        "\n      - {field: short_description, copy: short_description}"
        "\n      - {field: account, copy: account}\n      - {field: state, set: draft}"
        "\n      - {field: initiated_from, copy: sys_id}"
    )
    mapping_set = build("table_maps:\n" + _map("m", rows=rows))
    result = mapping_set.map_record("sn_customerservice_case", "wm_order", case_record(), sys_id=CASE_ID)
    assert result.fields["short_description"] == "CS0001001 Printer jams"
    assert result.fields["account"] == ACCOUNT["value"]
    assert result.fields["state"] == "draft"
    assert result.fields["initiated_from"] == CASE_ID


VALUE_MAPS = """
value_maps:
  prio: {entries: {"1": "1", "2": "2"}, default: "4"}
  strict: {entries: {"1": "high"}}
  from_file: {file: lookups/prio.yaml}
"""


@pytest.mark.parametrize(
    ("row", "priority", "expected"),
    [
        ("{field: priority, copy: priority, value_map: prio}", "2", "2"),
        ("{field: priority, copy: priority, value_map: prio}", "9", "4"),  # the map's default
        ("{field: priority, copy: priority, value_map: strict, default: low}", "9", "low"),  # the row's default
        ("{field: priority, copy: priority, value_map: prio, default: '5'}", "", "5"),  # empty value → row default
        ("{field: priority, copy: priority, value_map: from_file}", "1", "critical"),
    ],
)
def test_value_maps_and_defaults(row: str, priority: str, expected: str) -> None:
    mapping_set = build(
        VALUE_MAPS + "table_maps:\n" + _map("m", rows=f"[{row}]"), lookups={"lookups/prio.yaml": '"1": critical\n'}
    )
    result = mapping_set.map_record("sn_customerservice_case", "wm_order", case_record(priority=priority))
    assert result.fields["priority"] == expected


def test_a_value_without_entry_or_default_is_a_mapping_error() -> None:
    mapping_set = build(
        VALUE_MAPS + "table_maps:\n" + _map("m", rows="[{field: priority, copy: priority, value_map: strict}]"),
        lookups={"lookups/prio.yaml": '"1": critical\n'},
    )
    with pytest.raises(MappingError) as caught:
        mapping_set.map_record("sn_customerservice_case", "wm_order", case_record(priority="7"))
    assert caught.value.code == "unmapped_value" and "7" not in caught.value.detail


DERIVED = """
derived:
  wm_order:
    - {field: company, first_of: [{field: account}]}
    - {field: caller, first_of: [{field: contact}]}
    - field: location
      first_of: [{related: cmdb_ci, field: location}, {related: caller, field: location}, {field: location}]
"""


def test_derived_fields_follow_their_sources_and_override_mapped_values() -> None:
    rows = (
        "[{field: account, copy: account}, {field: company, set: other},"
        " {field: contact, copy: contact}, {field: location, copy: location}]"
    )
    mapping_set = build(DERIVED + "table_maps:\n" + _map("m", rows=rows))
    record = case_record(location={"value": "c" * 32, "display_value": "Case place"})
    fields = mapping_set.map_record("sn_customerservice_case", "wm_order", record).fields
    assert (fields["company"], fields["caller"], fields["location"]) == (ACCOUNT["value"], CONTACT["value"], "c" * 32)
    related = {
        "caller": {"location": {"value": "b" * 32, "display_value": "Home"}},
        "cmdb_ci": {"location": {"value": "a" * 32, "display_value": "Rack"}},
    }
    assert mapping_set.map_record("sn_customerservice_case", "wm_order", record, related).fields["location"] == "a" * 32
    del related["cmdb_ci"]
    assert mapping_set.map_record("sn_customerservice_case", "wm_order", record, related).fields["location"] == "b" * 32


def test_derive_on_an_update_follows_only_what_changed_and_clears_with_its_source() -> None:
    mapping_set = build(DERIVED)
    assert mapping_set.derive("wm_order", {"account": "d" * 32}) == {"company": "d" * 32}
    assert mapping_set.derive("wm_order", {"contact": ""}) == {"caller": ""}
    assert mapping_set.derive("wm_order", {"priority": "1"}) == {}


LOCATION_RULE = """
derived:
  wm_order:
    - {field: company, first_of: [{field: account}]}
    - field: location
      first_of:
        - {related: cmdb_ci, field: location}
        - {related: caller, field: location}
        - {related: case, field: location}
"""


def _place(c: str) -> dict[str, str]:
    return {"value": c * 32, "display_value": c}


def test_a_case_is_its_own_related_record_at_creation() -> None:
    mapping_set = build(LOCATION_RULE + "table_maps:\n" + _map("m", rows="[{field: account, copy: account}]"))
    record = case_record(location=_place("c"))
    assert mapping_set.map_record("sn_customerservice_case", "wm_order", record).fields["location"] == "c" * 32
    assert mapping_set.map_record("sn_order_case", "wm_order", record).fields["location"] == "c" * 32
    given = {"case": case_record(location=_place("d"))}  # a related `case` given wins
    assert mapping_set.map_record("sn_customerservice_case", "wm_order", record, given).fields["location"] == "d" * 32


def test_derive_related_is_the_rule_after_creation() -> None:
    mapping_set = build(LOCATION_RULE)
    current = {"account": "a" * 32, "company": "b" * 32, "location": "9" * 32}
    case = case_record(location=_place("c"))
    caller, ci = {"location": _place("e")}, {"location": _place("f")}
    derive = mapping_set.derive_related
    # only the fields that read related records; the work order's own location is no candidate
    assert derive("wm_order", current, {"case": case, "caller": caller, "cmdb_ci": ci}) == {"location": "f" * 32}
    assert derive("wm_order", current, {"case": case, "caller": caller}) == {"location": "e" * 32}
    assert derive("wm_order", current, {"case": case, "caller": {"location": ""}}) == {"location": "c" * 32}
    # every known input empty: no location; no input known at all: no opinion
    assert derive("wm_order", current, {"case": case_record(), "cmdb_ci": {"location": ""}}) == {"location": ""}
    assert derive("wm_order", current, {}) == {}
    assert derive("incident", current, {"case": case}) == {}


def test_related_inputs_say_what_the_derived_rules_read() -> None:
    mapping_set = build(LOCATION_RULE)
    assert mapping_set.related_inputs("wm_order") == {
        "cmdb_ci": {"location"},
        "caller": {"location"},
        "case": {"location"},
    }
    assert mapping_set.related_inputs("incident") == {}
    assert mapping_set.related_derived("wm_order") == ("location",)
    assert mapping_set.related_derived("incident") == ()


SYNC = """
sync:
  - source_table: sn_customerservice_case
    target_table: wm_order
    unless_target_state: [closed_complete, canceled]
    rename: {contact: caller}
    fields:
      priority: unless_target_state
      description: always
      short_description: never
      contact: {unless_target_state: [canceled]}
"""


def test_sync_policies_never_always_and_unless_target_state() -> None:
    mapping_set = build(SYNC)
    changed = {"priority": "1", "description": "new", "short_description": "x", "contact": CONTACT, "state": "3"}
    assert mapping_set.sync_fields("sn_customerservice_case", "wm_order", changed, "assigned") == {
        "priority": "1",
        "description": "new",
        "caller": CONTACT["value"],
    }
    assert mapping_set.sync_fields("sn_customerservice_case", "wm_order", changed, "closed_complete") == {
        "description": "new",
        "caller": CONTACT["value"],
    }
    assert mapping_set.sync_fields("sn_order_case", "wm_order", changed, "canceled") == {"description": "new"}
    assert mapping_set.sync_fields("sn_customerservice_case", "incident", changed, "2") == {}


def test_the_nearest_tables_sync_wins_over_the_table_it_extends() -> None:
    """An order case with a sync of its own uses it, not its base table's (found by a mutation
    run: taking the last match instead of the first passed every test)."""
    own = (
        SYNC
        + """
  - source_table: sn_order_case
    target_table: wm_order
    unless_target_state: []
    rename: {}
    fields: {short_description: always}
"""
    )
    mapping_set = build(own)
    changed = {"priority": "1", "short_description": "x"}
    assert mapping_set.sync_fields("sn_order_case", "wm_order", changed, "assigned") == {"short_description": "x"}
    assert mapping_set.sync_fields("sn_customerservice_case", "wm_order", changed, "assigned") == {"priority": "1"}


def test_a_derived_rule_passes_over_an_absent_field_to_its_next_candidate() -> None:
    """Found by a mutation run: stopping at the first candidate not given passed every test."""
    mapping_set = build("""
derived:
  wm_order:
    - {field: company, first_of: [{field: partner}, {field: account}]}
""")
    assert mapping_set.derive("wm_order", {"account": "a" * 32}) == {"company": "a" * 32}
    assert mapping_set.derive("wm_order", {"partner": "", "account": "a" * 32}) == {"company": "a" * 32}
    assert mapping_set.derive("wm_order", {"partner": "p" * 32, "account": "a" * 32}) == {"company": "p" * 32}


def test_sync_includes_derivations_of_synced_fields() -> None:
    mapping_set = build(DERIVED + SYNC.replace("rename: {contact: caller}", "rename: {}"))
    synced = mapping_set.sync_fields("sn_customerservice_case", "wm_order", {"contact": CONTACT}, "draft")
    assert synced == {"contact": CONTACT["value"], "caller": CONTACT["value"]}


def test_the_engine_never_mutates_its_inputs() -> None:
    rows = "[{field: account, copy: account}, {field: initiated_from, copy: sys_id}]"
    mapping_set = build(DERIVED + "table_maps:\n" + _map("m", rows=rows))
    record, related, args = case_record(), {"caller": {"location": ""}}, {"type": "normal"}
    before = copy.deepcopy((record, related, args))
    mapping_set.map_record("sn_customerservice_case", "wm_order", record, related, action_args=args, sys_id=CASE_ID)
    mapping_set.explain_map_choice("sn_customerservice_case", "wm_order", record, related)
    assert (record, related, args) == before


def test_a_failing_expression_is_a_mapping_error_without_the_data() -> None:
    mapping_set = build("table_maps:\n" + _map("m", rows='[{field: priority, compute: "abs(record.priority)"}]'))
    with pytest.raises(MappingError) as caught:
        mapping_set.map_record("sn_customerservice_case", "wm_order", case_record(priority="secret"))
    assert caught.value.code == "expression_failed" and "secret" not in str(caught.value)


def test_the_set_carries_version_and_a_content_hash_that_ignores_comments() -> None:
    first = build('version: "7"\nrouting: {}\n')
    assert first.version == "7" and len(first.content_hash) == 64
    assert build('# comment\nversion: "7"   # same\nrouting: {}\n').content_hash == first.content_hash
    assert build('version: "8"\nrouting: {}\n').content_hash != first.content_hash


def test_routing_defaults_follow_servicenow() -> None:
    routing = build('version: "1"\n').routing
    assert routing.parent_child_case_sync is False and routing.resolution_mode == "suggest"
    assert routing.case_fields_to_sync == (
        "priority",
        "state",
        "comments",
        "work_notes",
        "assigned_to",
        "close_notes",
        "resolution_code",
    )
    assert routing.late_children_get_earlier_notes is False
