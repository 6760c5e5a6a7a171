"""A strict YAML reader for admin-edited files: plain data with the position of every node.

Built on PyYAML's `SafeLoader` composer (so nodes keep their marks) with these rules:

- no anchors, no aliases (an alias bomb is refused before anything is expanded);
- no explicit tags at all (`!!python/...`, `!custom`, even `!!str`): the file means what it says;
- duplicate keys are errors;
- plain scalars resolve like JSON only: `true`/`false`, `null`/`~`/empty, integers without
  leading zeros. Everything else is text, so `NO`, `on`, `yes` and `1.10` stay the strings an
  admin typed; a string field given `true` fails validation with a hint to quote it;
- a file size cap and a nesting depth cap keep a hostile file cheap to refuse.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

import yaml
from yaml.events import AliasEvent, CollectionStartEvent, ScalarEvent
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from bridge.mapping.diagnostics import Diagnostic, dotted

MAX_FILE_BYTES = 1_000_000
MAX_DEPTH = 40

_JSON_INT = re.compile(r"-?(?:0|[1-9][0-9]{0,17})")

KeyPath = tuple[str | int, ...]


@dataclass(slots=True)
class Positions:
    """1-based (line, col) of every value node and mapping key, by key path."""

    values: dict[KeyPath, tuple[int, int]] = field(default_factory=dict)
    keys: dict[KeyPath, tuple[int, int]] = field(default_factory=dict)

    def of(self, path: KeyPath, *, key: bool = False) -> tuple[int, int]:
        """The position of `path`, else of its nearest ancestor that has one."""
        if key and path in self.keys:
            return self.keys[path]
        for end in range(len(path), -1, -1):
            if path[:end] in self.values:
                return self.values[path[:end]]
        return (1, 1)


@dataclass(frozen=True, slots=True)
class YamlDocument:
    file: str
    text: str
    data: Any
    positions: Positions
    #: When checks run on part of the data (the parts of a file that failed validation left
    #: out): list path → the original index of each item kept. Diagnostics point at the file.
    kept: dict[KeyPath, tuple[int, ...]] = field(default_factory=dict)

    def line(self, number: int) -> str:
        return source_line(self.text, number)

    def original(self, path: KeyPath) -> KeyPath:
        """``path`` in the file's own terms (list indexes as the file has them)."""
        if not self.kept:
            return path
        out: list[str | int] = []
        for part in path:
            indexes = self.kept.get(tuple(out))
            out.append(indexes[part] if isinstance(part, int) and indexes and part < len(indexes) else part)
        return tuple(out)

    def position(self, path: KeyPath, *, key: bool = False) -> tuple[int, int]:
        return self.positions.of(self.original(path), key=key)

    def diagnostic(self, path: KeyPath, code: str, message: str, hint: str = "", *, key: bool = False) -> Diagnostic:
        path = self.original(path)
        line, col = self.positions.of(path, key=key)
        return Diagnostic(self.file, line, col, code, dotted(path), message, hint, self.line(line))


class _Refusal(yaml.MarkedYAMLError):
    def __init__(self, code: str, message: str, mark: Any) -> None:
        super().__init__(problem=message, problem_mark=mark)
        self.code = code


class _StrictLoader(yaml.SafeLoader):
    """SafeLoader whose composer refuses anchors, aliases, tags and deep nesting."""

    _depth = 0

    def compose_node(self, parent: Node | None, index: Any) -> Node | None:
        event = self.peek_event()
        if isinstance(event, AliasEvent):
            raise _Refusal("yaml-alias", "aliases (*name) are not allowed; repeat the value instead", event.start_mark)
        if isinstance(event, ScalarEvent | CollectionStartEvent):
            if event.anchor is not None:
                raise _Refusal(
                    "yaml-alias", "anchors (&name) are not allowed; repeat the value instead", event.start_mark
                )
            if event.tag is not None:
                raise _Refusal(
                    "yaml-tag", f"tags such as '{event.tag}' are not allowed; write plain values", event.start_mark
                )
        self._depth += 1
        try:
            if self._depth > MAX_DEPTH:
                raise _Refusal("yaml-too-deep", f"nesting deeper than {MAX_DEPTH} levels", event.start_mark)
            return super().compose_node(parent, index)
        finally:
            self._depth -= 1


def read_yaml(file: str, raw: bytes) -> YamlDocument | Diagnostic:
    """Parse one YAML document strictly; a `Diagnostic` explains the first refusal."""
    if len(raw) > MAX_FILE_BYTES:
        return Diagnostic(file, 0, 0, "file-too-large", "", f"file is {len(raw)} bytes; the limit is {MAX_FILE_BYTES}")
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as error:
        return Diagnostic(file, 0, 0, "yaml-syntax", "", f"not UTF-8 (byte {error.start})")
    try:
        loader = _StrictLoader(text)
        try:
            node = loader.get_single_node()
        finally:
            loader.dispose()
    except _Refusal as error:
        return _mark_diagnostic(file, text, error.code, error)
    except yaml.MarkedYAMLError as error:
        return _mark_diagnostic(file, text, "yaml-syntax", error)
    except yaml.YAMLError as error:
        return Diagnostic(file, 0, 0, "yaml-syntax", "", str(error).splitlines()[0])
    positions = Positions()
    if node is None:
        return YamlDocument(file, text, None, positions)
    try:
        data = _to_data(node, (), positions)
    except _Refusal as error:
        return _mark_diagnostic(file, text, error.code, error)
    return YamlDocument(file, text, data, positions)


def _mark_diagnostic(file: str, text: str, code: str, error: yaml.MarkedYAMLError) -> Diagnostic:
    mark = error.problem_mark or error.context_mark
    line, col = (mark.line + 1, mark.column + 1) if mark is not None else (0, 0)
    source = source_line(text, line)
    message = (error.problem or error.context or "invalid YAML").strip()
    return Diagnostic(file, line, col, code, "", message, "", source)


def source_line(text: str, number: int, limit: int = 200) -> str:
    """Line `number` (1-based) of `text`, cut to `limit` characters for display."""
    lines = text.splitlines()
    line = lines[number - 1] if 0 < number <= len(lines) else ""
    return line if len(line) <= limit else line[:limit] + "…"


def _to_data(node: Node, path: KeyPath, positions: Positions) -> Any:
    positions.values[path] = (node.start_mark.line + 1, node.start_mark.column + 1)
    if isinstance(node, ScalarNode):
        return _scalar(node)
    if isinstance(node, SequenceNode):
        return [_to_data(item, (*path, i), positions) for i, item in enumerate(node.value)]
    if isinstance(node, MappingNode):
        out: dict[Any, Any] = {}
        for key_node, value_node in node.value:
            if not isinstance(key_node, ScalarNode):
                raise _Refusal("yaml-syntax", "mapping keys must be plain values", key_node.start_mark)
            key = _scalar(key_node)
            if isinstance(key, bool) or key is None:
                key = key_node.value  # `on:`/`null:` as a key means the word, not a value
            if key in out:
                raise _Refusal("yaml-duplicate-key", f"duplicate key '{key}'", key_node.start_mark)
            positions.keys[(*path, key)] = (key_node.start_mark.line + 1, key_node.start_mark.column + 1)
            out[key] = _to_data(value_node, (*path, key), positions)
        return out
    raise _Refusal("yaml-syntax", "unsupported YAML node", node.start_mark)


def _scalar(node: ScalarNode) -> Any:
    value = node.value
    if node.style:  # quoted, literal or folded: always text
        return value
    if value in ("true", "false"):
        return value == "true"
    if value in ("null", "~", ""):
        return None
    if _JSON_INT.fullmatch(value):
        return int(value)
    return value
