"""Points in time given on the command line: ISO 8601, or an age such as ``90s``, ``15m``, ``2h``,
``7d`` (that long before now)."""

from __future__ import annotations

import re
from datetime import datetime, timedelta, timezone

_AGE = re.compile(r"^(\d+)([smhd])$")
_UNITS = {"s": "seconds", "m": "minutes", "h": "hours", "d": "days"}


def parse_time(text: str, *, now: datetime | None = None) -> datetime:
    """An aware datetime (UTC when the text names no zone); ValueError if unreadable."""
    now = now or datetime.now(timezone.utc)
    match = _AGE.match(text.strip())
    if match:
        return now - timedelta(**{_UNITS[match.group(2)]: int(match.group(1))})
    try:
        parsed = datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
    except ValueError:
        raise ValueError(
            f"not a time: {text!r} (ISO 8601 such as 2024-05-01T12:00:00Z, or an age such as 30m, 2h, 7d)"
        ) from None
    return parsed.astimezone(timezone.utc) if parsed.tzinfo else parsed.replace(tzinfo=timezone.utc)


def as_ms(moment: datetime) -> int:
    return int(moment.timestamp() * 1000)
