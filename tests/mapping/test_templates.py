"""Work notes: labels, alternatives, and values inserted escaped — never evaluated."""

from __future__ import annotations

from pathlib import Path

import pytest

from bridge.mapping import load_mapping_set
from bridge.mapping.templates import ZERO_WIDTH_SPACE
from tests.mapping.helpers import build

SHIPPED = load_mapping_set(Path(__file__).parents[2] / "mappings")


def _comment(text: str) -> str:
    note = SHIPPED.render_note("incident.comment", {"number": "INC0012001", "author": "Ada", "text": text})
    assert note is not None
    return note.text.split("\n", 1)[1]


def test_the_contract_example_note_renders_with_the_state_label() -> None:
    note = SHIPPED.render_note(
        "incident.state_changed",
        {"number": "INC0012001", "old_state": "2", "new_state": "3", "hold_reason": "Awaiting Vendor"},
    )
    assert (note.element, note.text) == ("work_notes", "Incident INC0012001 is On Hold (Awaiting Vendor)")


def test_an_empty_value_selects_the_alternative_text() -> None:
    note = SHIPPED.render_note("incident.state_changed", {"number": "INC1", "new_state": "2", "hold_reason": ""})
    assert note.text == "Incident INC1 is In Progress"


def test_an_unknown_state_code_is_shown_as_is() -> None:
    note = SHIPPED.render_note("problem.state_changed", {"number": "PRB1", "new_state": "999"})
    assert note.text == "Problem PRB1 is 999"


@pytest.mark.parametrize("tag", ["[code]", "[CODE]", "[/code]", "[ Code ]", "[/ code]"])
def test_code_tags_are_neutralised_but_readable(tag: str) -> None:
    shown = _comment(f"{tag}<img src=x onerror=alert(1)>")
    assert shown.startswith("[" + ZERO_WIDTH_SPACE)
    assert shown.replace(ZERO_WIDTH_SPACE, "") == f"{tag}<img src=x onerror=alert(1)>"


def test_template_syntax_in_values_stays_literal() -> None:
    assert _comment("{{7*7}} {number} ${7*7}") == "{{7*7}} {number} ${7*7}"
    assert "49" not in _comment("{{7*7}}")


def test_control_characters_are_shown_visibly_and_newlines_kept() -> None:
    assert _comment("bell\u0007 esc\x1b[31m nul\x00 rtl\u202e\r\nnext\tline") == (
        "bell\\u0007 esc\\u001b[31m nul\\u0000 rtl\\u202e\nnext\tline"
    )


def test_long_values_are_cut_with_an_ellipsis() -> None:
    mapping_set = build('notes:\n  incident.comment: {template: "{text}", max_value_length: 16}\n')
    assert mapping_set.render_note("incident.comment", {"text": "x" * 100}).text == "x" * 15 + "…"


def test_missing_values_render_empty_and_unknown_keys_render_nothing() -> None:
    mapping_set = build('notes:\n  change.closed: {template: "{number}: {close_notes}", element: comments}\n')
    assert mapping_set.render_note("change.closed", {"number": "CHG1"}).text == "CHG1: "
    assert mapping_set.render_note("change.closed", {"number": "CHG1"}).element == "comments"
    assert mapping_set.render_note("change.comment", {"number": "CHG1"}) is None


def test_literal_braces_in_a_template() -> None:
    mapping_set = build('notes:\n  change.hold_released: {template: "{{{number}}}"}\n')
    assert mapping_set.render_note("change.hold_released", {"number": "CHG1"}).text == "{CHG1}"


def test_every_shipped_note_key_is_defined() -> None:
    from bridge.mapping.vocabulary import NOTE_KEYS

    assert set(SHIPPED.note_keys()) == set(NOTE_KEYS)
