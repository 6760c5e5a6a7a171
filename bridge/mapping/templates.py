"""Work-note templates: `{name}` placeholders, nothing else; inserted values are escaped.

Syntax: `{name}` inserts a value, `{{` and `}}` write literal braces; any other brace is an
error at load time. There is no attribute access, no expression and no second pass, so a value
such as `{{7*7}}` is written literally.

Escaping of every inserted value (the template text itself is the admin's):
- ServiceNow `[code]…[/code]` tags (any case) get a zero-width space after `[`, so the journal
  shows them as text instead of rendering HTML;
- control characters other than newline and tab (and invisible format characters such as
  bidi overrides) are written visibly as `\\uXXXX`; CR LF becomes LF;
- the value is cut to the template's `max_value_length` with an ellipsis.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from connectors.common.values import as_text

Part = str | tuple[str]  # literal text, or (placeholder name,)

_TOKEN = re.compile(r"\{\{|\}\}|\{([A-Za-z_][A-Za-z0-9_]*)\}|[{}]")
_CODE_TAG = re.compile(r"\[(?=\s*/?\s*code\s*\])", re.IGNORECASE)
ZERO_WIDTH_SPACE = "\u200b"
ELLIPSIS = "…"


@dataclass(frozen=True, slots=True)
class TemplateProblem:
    offset: int
    message: str


def parse_template(text: str) -> tuple[Part, ...] | TemplateProblem:
    """Split a template into literal text and placeholders, or say where it is malformed."""
    parts: list[Part] = []
    literal, position = "", 0
    for match in _TOKEN.finditer(text):
        literal += text[position : match.start()]
        token = match.group(0)
        if token in ("{{", "}}"):
            literal += token[0]
        elif match.group(1):
            if literal:
                parts.append(literal)
            literal = ""
            parts.append((match.group(1),))
        else:
            return TemplateProblem(
                match.start(), f"stray '{token}': placeholders are {{name}}; write {token * 2} for a literal brace"
            )
        position = match.end()
    literal += text[position:]
    if literal:
        parts.append(literal)
    return tuple(parts)


def placeholders(parts: tuple[Part, ...]) -> list[str]:
    return [p[0] for p in parts if isinstance(p, tuple)]


def render(parts: tuple[Part, ...], values: Mapping[str, Any], max_value_length: int) -> str:
    """Fill the placeholders with escaped values (a missing value is empty)."""
    return "".join(
        part if isinstance(part, str) else escape_value(values.get(part[0]), max_value_length) for part in parts
    )


def escape_value(value: Any, max_length: int) -> str:
    """One value as safe, readable journal text."""
    text = _visible(as_text(value).replace("\r\n", "\n"))
    if len(text) > max_length:
        text = text[: max_length - 1] + ELLIPSIS
    return _CODE_TAG.sub("[" + ZERO_WIDTH_SPACE, text)


def _visible(text: str) -> str:
    if text.isprintable() and "\u200b" not in text:
        return text
    return "".join(
        char if char in "\n\t" or unicodedata.category(char) not in ("Cc", "Cf", "Cs") else _escaped(char)
        for char in text
    )


def _escaped(char: str) -> str:
    code = ord(char)
    return f"\\u{code:04x}" if code <= 0xFFFF else f"\\U{code:08x}"
