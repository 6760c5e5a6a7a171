"""Safe expressions: JMESPath compiled once, with a closed set of extra functions. Never `eval`.

An expression sees `{"record": <source record>, "related": {role: record}, "action_args": {...}}`.
Extra functions:

- `ref(x)`: the sys_id of a reference (`{"value", "display_value"}`), a string as is, else null;
- `display(x)`: the display value of a reference, a string as is, else null;
- `concat(a, b, ...)`: the arguments as one string (null and empty references count as "").
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import jmespath
from jmespath import exceptions as jp_errors
from jmespath import functions
from jmespath.parser import ParsedResult
from jmespath.visitor import TreeInterpreter

from bridge.mapping.closures import Evaluate, compile_node
from bridge.mapping.diagnostics import MappingError, did_you_mean
from connectors.common.values import as_text

ROOTS = ("record", "related", "action_args")

# Children of these nodes are evaluated against the same value as the node itself.
_SAME_SCOPE = {
    "comparator",
    "and_expression",
    "or_expression",
    "not_expression",
    "function_expression",
    "multi_select_list",
    "multi_select_dict",
    "key_val_pair",
}
# Only the first child of these sees the node's value; the others see the left side's result.
_LEFT_SCOPE = {
    "subexpression",
    "index_expression",
    "projection",
    "value_projection",
    "filter_projection",
    "pipe",
    "flatten",
}


class _BridgeFunctions(functions.Functions):
    @functions.signature({"types": []})
    def _func_ref(self, value: Any) -> Any:
        if isinstance(value, dict):
            inner = value.get("value")
            return inner if isinstance(inner, str) else None
        return value if isinstance(value, str) else None

    @functions.signature({"types": []})
    def _func_display(self, value: Any) -> Any:
        if isinstance(value, dict):
            inner = value.get("display_value")
            return inner if isinstance(inner, str) else None
        return value if isinstance(value, str) else None

    @functions.signature({"types": [], "variadic": True})
    def _func_concat(self, *values: Any) -> str:
        return "".join(as_text(v) for v in values)


_FUNCTIONS = _BridgeFunctions()
_OPTIONS = jmespath.Options(custom_functions=_FUNCTIONS)
FUNCTIONS: dict[str, Any] = _BridgeFunctions.FUNCTION_TABLE
# One interpreter for every search: it keeps no state between visits, and a new one per search
# (what `ParsedResult.search` does) is a reference cycle left to the garbage collector.
_INTERPRETER = TreeInterpreter(_OPTIONS)


@dataclass(frozen=True, slots=True)
class Compiled:
    """A checked, compiled expression."""

    text: str
    parsed: ParsedResult
    evaluate: Evaluate = field(repr=False, compare=False)

    def search(self, data: dict[str, Any], where: str) -> Any:
        """Evaluate; a failure is a `MappingError` naming `where` (never the data)."""
        try:
            return self.evaluate(data)
        except (jp_errors.JMESPathError, TypeError, ValueError) as error:
            raise MappingError("expression_failed", f"{where}: {type(error).__name__}") from None


@dataclass(frozen=True, slots=True)
class ExpressionProblem:
    code: str
    message: str
    hint: str = ""


def compile_expression(text: str) -> Compiled | ExpressionProblem:
    """Parse and check an expression: syntax, function names and arity, root names."""
    try:
        parsed = jmespath.compile(text)
    except jp_errors.JMESPathError as error:
        return ExpressionProblem("bad-expression", f"not a valid JMESPath expression: {_first_line(error)}")
    for problem in _check(parsed.parsed, root_scope=True):
        return problem
    return Compiled(text, parsed, compile_node(parsed.parsed, _INTERPRETER, _FUNCTIONS))


def record_fields(compiled: Compiled) -> Iterator[str]:
    """Fields read as `record.<name>` (checked against the source table)."""
    yield from _record_fields(compiled.parsed.parsed)


def _record_fields(node: dict[str, Any]) -> Iterator[str]:
    children = node.get("children", [])
    if node["type"] == "subexpression" and len(children) >= 2:
        first, second = children[0], children[1]
        if first["type"] == "field" and first["value"] == "record" and second["type"] == "field":
            yield second["value"]
    for child in children:
        if isinstance(child, dict):
            yield from _record_fields(child)


def _check(node: dict[str, Any], *, root_scope: bool) -> Iterator[ExpressionProblem]:
    kind, children = node["type"], node.get("children", [])
    if kind == "field" and root_scope and node["value"] not in ROOTS:
        yield ExpressionProblem(
            "bad-expression",
            f"'{node['value']}' is not an input; start with record., related. or action_args.",
            f"did you mean 'record.{node['value']}'?",
        )
    if kind == "function_expression":
        name = node["value"]
        if name not in FUNCTIONS:
            yield ExpressionProblem("unknown-function", f"unknown function '{name}()'", did_you_mean(name, FUNCTIONS))
        elif not _arity_ok(FUNCTIONS[name]["signature"], len(children)):
            yield ExpressionProblem("bad-expression", f"wrong number of arguments for '{name}()'")
    for i, child in enumerate(children):
        if isinstance(child, dict):
            inherit = kind in _SAME_SCOPE or (kind in _LEFT_SCOPE and i == 0)
            yield from _check(child, root_scope=root_scope and inherit)


def _arity_ok(signature: tuple[dict[str, Any], ...], count: int) -> bool:
    if signature and signature[-1].get("variadic"):
        return count >= len(signature)
    return count == len(signature)


def _first_line(error: Exception) -> str:
    return str(error).splitlines()[0] if str(error) else type(error).__name__
