"""What the simulated systems received from the bridge, so tests can compare.

Every command is kept in memory (unless ``keep=False`` for long runs) and optionally appended to
a JSONL file, one line per command, with what the system did about it.
"""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import IO, Any

#: What a system did with a command.
OUTCOMES = ("created", "updated", "unchanged", "duplicate", "unknown_record", "invalid")


@dataclass(frozen=True, slots=True)
class ReceivedCommand:
    system: str  # the system whose command topic carried it
    outcome: str  # one of OUTCOMES
    reason: str  # why a command was invalid ("" otherwise)
    command: dict[str, Any] | None  # the parsed command; None when it was not JSON
    event_ids: tuple[str, ...]  # the events the system emitted in answer
    sys_id: str  # the record created or changed ("" when none)


class CommandRecorder:
    """In-memory log and counters of received commands, with an optional JSONL copy."""

    def __init__(self, path: Path | None = None, *, keep: bool = True) -> None:
        self.received: list[ReceivedCommand] = []
        self.by_target: Counter[tuple[str, str, str]] = Counter()  # (system, table, operation)
        self.outcomes: Counter[str] = Counter()
        self._keep = keep
        self._file: IO[str] | None = path.open("a", encoding="utf-8") if path else None

    def __len__(self) -> int:
        return sum(self.outcomes.values())

    def record(self, entry: ReceivedCommand) -> None:
        command = entry.command or {}
        table, operation = str(command.get("table", "?")), str(command.get("operation", "?"))
        self.by_target[(entry.system, table, operation)] += 1
        self.outcomes[entry.outcome] += 1
        if self._keep:
            self.received.append(entry)
        if self._file is not None:
            self._file.write(json.dumps(asdict(entry), ensure_ascii=False) + "\n")

    def for_correlation(self, correlation_id: str) -> list[ReceivedCommand]:
        return [r for r in self.received if r.command and r.command.get("correlation_id") == correlation_id]

    def close(self) -> None:
        if self._file is not None:
            self._file.close()
            self._file = None

    def summary(self) -> dict[str, Any]:
        return {
            "commands": len(self),
            "outcomes": dict(sorted(self.outcomes.items())),
            "by_target": {"/".join(key): n for key, n in sorted(self.by_target.items())},
        }
