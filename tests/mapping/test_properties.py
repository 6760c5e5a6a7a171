"""Property tests: any contract-shaped event maps or raises MappingError; any text loads or is refused."""

from __future__ import annotations

from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bridge.mapping import MappingError, MappingSources, MappingValidationError, build_mapping_set, load_mapping_set
from bridge.mapping.vocabulary import ACTION_TARGETS, NOTE_KEYS
from connectors.catalog import TABLES

SHIPPED = load_mapping_set(Path(__file__).parents[2] / "mappings")
CASE_FIELDS = sorted(TABLES["sn_customerservice_case"].fields | {"sys_id"})

texts = st.text(max_size=40)
references = st.fixed_dictionaries({"value": texts, "display_value": texts})
contract_values = st.one_of(texts, references, st.just(""))
odd_values = st.one_of(
    st.none(),
    st.integers(),
    st.booleans(),
    st.lists(texts, max_size=3),
    st.dictionaries(texts, texts, max_size=2),
    st.fixed_dictionaries({"value": st.integers()}),
)
records = st.dictionaries(
    st.one_of(st.sampled_from(CASE_FIELDS), texts), st.one_of(contract_values, odd_values), max_size=25
)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    table=st.sampled_from(["sn_customerservice_case", "sn_order_case", "customer_account", "no_such_table"]),
    target=st.sampled_from(sorted(set(ACTION_TARGETS.values()))),
    record=records,
    related=st.dictionaries(st.sampled_from(["cmdb_ci", "caller", "contact", "x"]), records, max_size=3),
    action_args=st.dictionaries(
        st.sampled_from(["type", "template", "cat_item", "x"]), st.one_of(texts, odd_values), max_size=3
    ),
)
def test_map_record_maps_or_raises_a_mapping_error(table, target, record, related, action_args) -> None:  # type: ignore[no-untyped-def]
    try:
        result = SHIPPED.map_record(table, target, record, related, action_args=action_args)
    except MappingError as error:
        assert error.reason_code == "mapping_error"
        return
    if result is not None:
        assert all(isinstance(k, str) and isinstance(v, str) for k, v in result.fields.items())


@settings(max_examples=200, deadline=None)
@given(
    key=st.sampled_from(sorted(NOTE_KEYS)),
    values=st.dictionaries(texts, st.one_of(contract_values, odd_values), max_size=6),
)
def test_render_note_always_gives_text(key, values) -> None:  # type: ignore[no-untyped-def]
    note = SHIPPED.render_note(key, values)
    assert note is not None and isinstance(note.text, str)
    note.text.encode("utf-8")


YAML_PIECES = st.sampled_from(
    [
        "version: ",
        '"1"',
        "\n",
        "  ",
        "- ",
        "table_maps:",
        "name: m",
        "{",
        "}",
        "[",
        "]",
        ": ",
        "&a ",
        "*a",
        "!!python/name:os.system",
        "!t ",
        "source_table: sn_customerservice_case",
        "fields:",
        "copy: x",
        "'",
        '"',
        "#",
        "notes:",
        "on",
        "1.10",
        "\t",
        ",",
        "?",
        "|",
    ]
)


@settings(max_examples=300, deadline=None)
@given(text=st.one_of(st.text(max_size=200), st.lists(YAML_PIECES, max_size=40).map("".join)))
def test_any_text_loads_or_is_refused_with_diagnostics(text: str) -> None:
    try:
        build_mapping_set(MappingSources({"f.yaml": text.encode("utf-8", "surrogatepass")}))
    except MappingValidationError as error:
        assert error.diagnostics
