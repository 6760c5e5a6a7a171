"""Compiled expressions return exactly what jmespath's interpreter returns, on any input.

The mapping engine evaluates conditions and field expressions as closures built once
(`bridge.mapping.closures`); the interpreter stays the reference for every node kind.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Iterator

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bridge.mapping import load_mapping_set
from bridge.mapping.expressions import _INTERPRETER, Compiled, compile_expression

SHIPPED = load_mapping_set(Path(__file__).parents[2] / "mappings")

# Every node kind the grammar has, the compiled ones and those left to the interpreter, and
# the equality corners (0/1 against false/true, null, strings against non-strings).
WRITTEN = [
    "record.category == 'x'",
    "record.category != 'x'",
    "'x' == record.category",
    "record.n == `1`",
    "record.n == `true`",
    "record.n == `0`",
    "record.n != `false`",
    "record.missing == `null`",
    "record.a.value",
    "record.a.value.deeper",
    "record.a.value == 'x' && record.b == ''",
    "record.a || record.b",
    "record.a && record.b",
    "!(record.a)",
    "!(record.n)",
    "!(record.a == 'x')",
    "!record.a",
    "record.n < `3`",
    "record.n >= record.m",
    "record.list[0]",
    "record.list[-1].value",
    "record.list[*].value",
    "record.list[?value == 'x'].display_value",
    "record.list[1:]",
    "record.list[]",
    "ref(record.a)",
    "display(record.a)",
    "concat(record.number, '-', ref(record.a))",
    "record.a | ref(@)",
    "length(record.list)",
    "not_null(record.a, record.b)",
    "record.*",
    "{a: record.a, b: record.b}",
    "[record.a, record.b]",
    "action_args.type == 'standard'",
    "related.caller.email",
    "record.a.*.value",
    "to_string(record.n) == '1'",
]


def _shipped_expressions() -> Iterator[str]:
    for rule in SHIPPED.maps:
        if rule.condition is not None:
            yield rule.condition.text
        for row in rule.rows:
            if isinstance(row.source, Compiled):
                yield row.source.text


EXPRESSIONS = sorted({*WRITTEN, *_shipped_expressions()})

# Few distinct values, so that equal and unequal pairs of every kind come up often.
SCALARS = ["", "x", "y", "standard", "1", None, True, False, 0, 1, 2, 0.0, 1.5]
scalars = st.sampled_from(SCALARS)
values = st.recursive(
    scalars,
    lambda inner: (
        st.lists(inner, max_size=3)
        | st.dictionaries(st.sampled_from(["value", "display_value", "deeper", "x"]), inner, max_size=3)
    ),
    max_leaves=8,
)
records = st.dictionaries(st.sampled_from(["category", "n", "m", "a", "b", "list", "number"]), values, max_size=7)
inputs = st.fixed_dictionaries(
    {
        "record": records,
        "related": st.dictionaries(st.sampled_from(["caller", "contact"]), records, max_size=2),
        "action_args": st.dictionaries(st.sampled_from(["type", "x"]), values, max_size=2),
    }
)


def _outcome(evaluate: Any, data: dict[str, Any]) -> str:
    try:
        return repr(evaluate(data))  # repr: True and 1 are equal, their reprs are not
    except Exception as error:  # noqa: BLE001 - the same failure is the same behaviour
        return f"raised {type(error).__name__}"


def _grid() -> Iterator[dict[str, Any]]:
    """Every pair of scalars on both sides of every comparison, plain and as references."""
    for s in SCALARS:
        for t in SCALARS:
            for a in (s, {"value": s, "display_value": t}):
                yield {
                    "record": {
                        "category": s,
                        "n": s,
                        "m": t,
                        "a": a,
                        "b": t,
                        "number": s,
                        "list": [s, {"value": s, "display_value": t}],
                    },
                    "related": {"caller": {"email": s}},
                    "action_args": {"type": s},
                }


GRID = list(_grid())


@pytest.mark.parametrize("text", EXPRESSIONS)
def test_compiled_expression_matches_the_interpreter_on_every_pair_of_values(text: str) -> None:
    compiled = compile_expression(text)
    assert isinstance(compiled, Compiled)
    for data in GRID:
        reference = _outcome(lambda d: _INTERPRETER.visit(compiled.parsed.parsed, d), data)
        assert _outcome(compiled.evaluate, data) == reference, data


def test_the_corpus_covers_the_shipped_mappings_and_every_written_case() -> None:
    assert len(EXPRESSIONS) > len(WRITTEN)  # the shipped mappings have expressions of their own
    for text in EXPRESSIONS:
        assert isinstance(compile_expression(text), Compiled), text


@pytest.mark.parametrize("text", EXPRESSIONS)
@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=inputs)
def test_compiled_expression_returns_what_the_interpreter_returns(text: str, data: dict[str, Any]) -> None:
    compiled = compile_expression(text)
    assert isinstance(compiled, Compiled)
    reference = _outcome(lambda d: _INTERPRETER.visit(compiled.parsed.parsed, d), data)
    assert _outcome(compiled.evaluate, data) == reference
