"""How any value from a record or a flow reads as text (expressions' ``concat``, templates)."""

from __future__ import annotations

from typing import Any


def as_text(value: Any) -> str:
    """References read as their display value; ``None`` as ``""``; booleans as true/false."""
    if value is None:
        return ""
    if isinstance(value, dict):
        shown = value.get("display_value") or value.get("value") or ""
        return shown if isinstance(shown, str) else ""
    if isinstance(value, bool):
        return "true" if value else "false"
    return value if isinstance(value, str) else str(value)
