"""``python -m bench.fault_report [pytest args]``: run the fault tests, print their figures.

Runs ``tests/reliability`` with ``BRIDGE_FAULT_FIGURES`` pointing at a temporary file (each
scenario appends one JSON line: events, kills, lost, duplicate effects, duplicate deliveries,
redelivered events, recovery p50/p99) and prints them as a table. Exit code: pytest's.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

COLUMNS = (
    "scenario",
    "events",
    "kills",
    "lost",
    "duplicate_effects",
    "duplicate_deliveries",
    "redelivered_events",
    "recovery_p50_s",
    "recovery_p99_s",
    "store_equal",
)


def main(argv: list[str]) -> int:
    with tempfile.TemporaryDirectory() as tmp:
        figures = Path(tmp) / "figures.jsonl"
        env = {**os.environ, "BRIDGE_FAULT_FIGURES": str(figures)}
        code = subprocess.call([sys.executable, "-m", "pytest", "tests/reliability", "-q", *argv], env=env)
        rows = [json.loads(line) for line in figures.read_text().splitlines()] if figures.exists() else []
    print("\n" + " | ".join(COLUMNS))
    print(" | ".join("---" for _ in COLUMNS))
    for row in rows:
        print(" | ".join(str(row.get(column, "")) for column in COLUMNS))
    return code


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
