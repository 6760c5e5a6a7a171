"""The strict YAML reader refuses what could surprise or attack an admin's file."""

from __future__ import annotations

from bridge.mapping.diagnostics import Diagnostic
from bridge.mapping.safe_yaml import MAX_FILE_BYTES, read_yaml
from tests.mapping.helpers import diagnostics

ALIAS_BOMB = b"""\
a: &a ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]
b: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a]
c: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b]
d: &d [*c, *c, *c, *c, *c, *c, *c, *c, *c]
e: &e [*d, *d, *d, *d, *d, *d, *d, *d, *d]
f: &f [*e, *e, *e, *e, *e, *e, *e, *e, *e]
g: &g [*f, *f, *f, *f, *f, *f, *f, *f, *f]
h: &h [*g, *g, *g, *g, *g, *g, *g, *g, *g]
i: &i [*h, *h, *h, *h, *h, *h, *h, *h, *h]
"""


def _refusal(raw: bytes) -> Diagnostic:
    result = read_yaml("f.yaml", raw)
    assert isinstance(result, Diagnostic), result
    return result


def test_alias_bomb_is_refused_at_the_first_anchor_without_expanding() -> None:
    refusal = _refusal(ALIAS_BOMB)
    assert (refusal.code, refusal.line, refusal.col) == ("yaml-alias", 1, 4)


def test_python_object_payload_is_refused_as_a_tag() -> None:
    refusal = _refusal(b"version: !!python/object/apply:os.system ['touch /tmp/pwned']\n")
    assert (refusal.code, refusal.line, refusal.col) == ("yaml-tag", 1, 10)


def test_custom_and_standard_explicit_tags_are_refused() -> None:
    assert _refusal(b"a: !secret x\n").code == "yaml-tag"
    assert _refusal(b"a: !!str 10\n").code == "yaml-tag"
    assert _refusal(b"a: !!map {b: 1}\n").code == "yaml-tag"


def test_duplicate_keys_are_refused_on_the_second_key() -> None:
    refusal = _refusal(b"a: 1\nb:\n  c: 1\n  c: 2\n")
    assert (refusal.code, refusal.line, refusal.col) == ("yaml-duplicate-key", 4, 3)


def test_yaml_1_1_words_and_versions_keep_their_text() -> None:
    doc = read_yaml("f.yaml", b"a: NO\nb: on\nc: yes\nd: 1.10\ne: 010\nf: 12\ng: true\nh: ~\n")
    assert not isinstance(doc, Diagnostic)
    assert doc.data == {"a": "NO", "b": "on", "c": "yes", "d": "1.10", "e": "010", "f": 12, "g": True, "h": None}


def test_oversized_and_too_deep_files_are_refused() -> None:
    assert _refusal(b"#" * (MAX_FILE_BYTES + 1)).code == "file-too-large"
    assert _refusal(b"[" * 5000).code == "yaml-too-deep"


def test_a_bool_where_text_is_expected_fails_with_a_quote_hint() -> None:
    found = diagnostics('version: "1"\nvalue_maps:\n  m: {entries: {a: yes}, default: true}\n')
    assert [(d.code, d.line, d.path) for d in found] == [("wrong-type", 3, "value_maps.m.default")]
    assert "quote" in found[0].hint


def test_yes_for_a_boolean_is_refused_with_a_hint() -> None:
    found = diagnostics('version: "1"\nrouting: {parent_child_case_sync: yes}\n')
    assert [(d.code, d.line, d.col) for d in found] == [("wrong-type", 2, 35)]
    assert "true or false" in found[0].hint
