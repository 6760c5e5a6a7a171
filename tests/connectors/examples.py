"""The contract's example messages (a copy in `tests/contract/examples/`), loaded for the tests."""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path
from typing import Any

EXAMPLES_DIR = Path(__file__).resolve().parents[1] / "contract" / "examples"


@cache
def event_examples() -> dict[str, bytes]:
    """File name → raw bytes of every event example."""
    return {
        path.name: path.read_bytes()
        for path in sorted(EXAMPLES_DIR.glob("*.json"))
        if not path.name.startswith("command-")
    }


def example(name: str) -> dict[str, Any]:
    """A fresh, mutable copy of one example as a dict."""
    return json.loads((EXAMPLES_DIR / name).read_bytes())


def encode(document: Any) -> bytes:
    return json.dumps(document).encode()
