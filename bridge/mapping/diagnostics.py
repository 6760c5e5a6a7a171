"""What goes wrong with mappings: validation diagnostics (for admins) and mapping errors (per event).

A `Diagnostic` points into the admin's file, GCC style, so editors and CI problem matchers
understand it:

    mappings/case_to_work_order.yaml:14:15: error[unknown-field] table_maps[0].fields[3].copy: ...
       14 |       - {field: priority, copy: priorty}
          |                                 ^
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass
from typing import Any


@dataclass(frozen=True, slots=True)
class Diagnostic:
    """One problem in a mapping file. `line` and `col` are 1-based (0 when unknown)."""

    file: str
    line: int
    col: int
    code: str
    path: str
    message: str
    hint: str = ""
    source_line: str = ""

    def format(self) -> str:
        """The human form: location, code, path, message, hint, then the line with a caret."""
        where = f"{self.file}:{self.line}:{self.col}" if self.line else self.file
        path = f" {self.path}:" if self.path else ":"
        text = f"{where}: error[{self.code}]{path} {self.message}"
        if self.hint:
            text += f" ({self.hint})"
        if self.source_line and self.line:
            gutter = f"{self.line:>5} | "
            text += f"\n{gutter}{self.source_line}\n{' ' * (len(gutter) - 2)}| {' ' * max(self.col - 1, 0)}^"
        return text

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


class MappingValidationError(ValueError):
    """The mapping set is invalid; `diagnostics` holds every problem found, in file order."""

    def __init__(self, diagnostics: Sequence[Diagnostic]) -> None:
        self.diagnostics: tuple[Diagnostic, ...] = tuple(
            sorted(diagnostics, key=lambda d: (d.file, d.line, d.col, d.code))
        )
        count = len(self.diagnostics)
        first = self.diagnostics[0].format().splitlines()[0] if count else "no details"
        super().__init__(f"{count} mapping error(s); first: {first}")

    def format(self) -> str:
        return "\n".join(d.format() for d in self.diagnostics)


class MappingError(Exception):
    """Applying a valid mapping to one event failed; the event goes to the dead-letter topic.

    `detail` names the map, row and kind of problem, never the event's values.
    """

    reason_code = "mapping_error"

    def __init__(self, code: str, detail: str) -> None:
        self.code = code
        self.detail = detail
        super().__init__(f"{code}: {detail}")


def did_you_mean(word: str, choices: Iterable[str]) -> str:
    """A "did you mean 'x'?" hint for a misspelt name, or "" when nothing is close."""
    close = difflib.get_close_matches(word, sorted(set(choices)), n=1, cutoff=0.6)
    return f"did you mean '{close[0]}'?" if close else ""


def dotted(path: Sequence[str | int]) -> str:
    """`("table_maps", 0, "fields")` → `table_maps[0].fields`."""
    out = ""
    for part in path:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += f".{part}" if out else str(part)
    return out
