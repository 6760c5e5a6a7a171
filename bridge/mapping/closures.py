"""JMESPath syntax trees turned into nested Python closures, once, when the mappings load.

jmespath's ``TreeInterpreter`` dispatches every node of every evaluation through a method
lookup; a condition such as ``record.category == 'x'`` takes five visits, about 5 µs, and a map
that never applies still costs that on every event its table pair sees. A closure per node
does the same work without the dispatch. The node kinds that conditions and field expressions
use are compiled here with the JMESPath specification's rules, so their results are the
interpreter's (``tests/mapping/test_closures.py`` compares them): equality of JSON values (so
``true`` is not ``1``), and what is false (``""``, ``[]``, ``{}``, ``null``, ``false``; ``0``
is not). Any other kind of node is evaluated by the interpreter itself (``fallback``), with
compiled nodes around it. Only jmespath's public API is used: its parser's trees, the
interpreter's ``visit``, and the ``Functions`` of the bridge's own options.
"""

from __future__ import annotations

from numbers import Number
from typing import Any, Callable

from jmespath.functions import Functions
from jmespath.visitor import TreeInterpreter

Evaluate = Callable[[Any], Any]
Builder = Callable[[dict[str, Any], TreeInterpreter, Functions], Evaluate]


def compile_node(node: dict[str, Any], interpreter: TreeInterpreter, functions: Functions) -> Evaluate:
    """A function of the input value that returns what ``interpreter.visit(node, value)`` does
    (``functions``: the interpreter's, for function calls)."""
    builder = _BUILDERS.get(node["type"])
    if builder is None:
        return _fallback(node, interpreter, functions)
    return builder(node, interpreter, functions)


def _is_actual_number(value: Any) -> bool:
    """A JSON number (a bool is not one, whatever Python says)."""
    return isinstance(value, Number) and not isinstance(value, bool)


def _equals(left: Any, right: Any) -> bool:
    """JSON equality: ``0``/``1`` never equal ``false``/``true`` (Python's ``==`` says they do)."""
    if _is_actual_number(left) and left in (0, 1) and isinstance(right, bool):
        return False
    if _is_actual_number(right) and right in (0, 1) and isinstance(left, bool):
        return False
    return bool(left == right)


def _is_false(value: Any) -> bool:
    """JMESPath's false values; equality checks, as the specification's truth table is not
    Python's (``0`` is true)."""
    return value == "" or value == [] or value == {} or value is None or value is False


def _fallback(node: dict[str, Any], interpreter: TreeInterpreter, _: Functions) -> Evaluate:
    visit = interpreter.visit
    return lambda value: visit(node, value)


def _children(node: dict[str, Any], interpreter: TreeInterpreter, functions: Functions) -> list[Evaluate]:
    return [compile_node(child, interpreter, functions) for child in node["children"]]


def _field(node: dict[str, Any], *_: Any) -> Evaluate:
    name = node["value"]

    def field(value: Any) -> Any:
        try:
            return value.get(name)
        except AttributeError:
            return None

    return field


def _chain(node: dict[str, Any], interpreter: TreeInterpreter, functions: Functions) -> Evaluate:
    if node["type"] == "subexpression" and all(c["type"] == "field" for c in node["children"]):
        return _path([c["value"] for c in node["children"]])
    steps = _children(node, interpreter, functions)
    if len(steps) == 2:
        first, second = steps
        return lambda value: second(first(value))

    def chain(value: Any) -> Any:
        for step in steps:
            value = step(value)
        return value

    return chain


def _path(names: list[str]) -> Evaluate:
    """``a.b.c``: what a chain of field visits returns, with one call."""

    def path(value: Any) -> Any:
        for name in names:
            try:
                value = value.get(name)
            except AttributeError:
                return None
        return value

    return path


def _literal(node: dict[str, Any], *_: Any) -> Evaluate:
    constant = node["value"]
    return lambda value: constant


def _current(node: dict[str, Any], *_: Any) -> Evaluate:
    return lambda value: value


def _comparator(node: dict[str, Any], interpreter: TreeInterpreter, functions: Functions) -> Evaluate:
    left, right = _children(node, interpreter, functions)
    op = node["value"]
    constants = [c["value"] for c in node["children"] if c["type"] == "literal"]
    if op in ("eq", "ne") and any(isinstance(c, str) for c in constants):
        # Against a string, jmespath's equality is Python's: its special cases are for numbers
        # and booleans only.
        if op == "eq":
            return lambda value: left(value) == right(value)
        return lambda value: left(value) != right(value)
    if op == "eq":
        return lambda value: _equals(left(value), right(value))
    if op == "ne":
        return lambda value: not _equals(left(value), right(value))
    return _fallback(node, interpreter, functions)  # ordering: the interpreter's number-only rules


def _and(node: dict[str, Any], interpreter: TreeInterpreter, functions: Functions) -> Evaluate:
    left, right = _children(node, interpreter, functions)
    is_false = _is_false

    def both(value: Any) -> Any:
        matched = left(value)
        return matched if is_false(matched) else right(value)

    return both


def _or(node: dict[str, Any], interpreter: TreeInterpreter, functions: Functions) -> Evaluate:
    left, right = _children(node, interpreter, functions)
    is_false = _is_false

    def either(value: Any) -> Any:
        matched = left(value)
        return right(value) if is_false(matched) else matched

    return either


def _not(node: dict[str, Any], interpreter: TreeInterpreter, functions: Functions) -> Evaluate:
    (inner,) = _children(node, interpreter, functions)

    def negated(value: Any) -> Any:
        result = inner(value)
        if _is_actual_number(result) and result == 0:
            return False  # jmespath: !0 is false
        return not result

    return negated


def _function(node: dict[str, Any], interpreter: TreeInterpreter, functions: Functions) -> Evaluate:
    arguments = _children(node, interpreter, functions)
    name, call = node["value"], functions.call_function
    return lambda value: call(name, [argument(value) for argument in arguments])


_BUILDERS: dict[str, Builder] = {
    "field": _field,
    "subexpression": _chain,
    "pipe": _chain,
    "index_expression": _chain,
    "literal": _literal,
    "current": _current,
    "identity": _current,
    "comparator": _comparator,
    "and_expression": _and,
    "or_expression": _or,
    "not_expression": _not,
    "function_expression": _function,
}
