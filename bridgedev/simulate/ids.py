"""Deterministic identities and time for the simulated systems.

Everything the simulators invent (sys_ids, event ids, timestamps) derives from the seed, so the
same seed gives the same bytes on every machine and every run.
"""

from __future__ import annotations

import hashlib
import uuid
from datetime import datetime, timedelta

#: Where simulated time starts; a fixed instant keeps streams byte-identical across runs.
SIM_EPOCH = datetime(2026, 11, 22, 8, 0, 0)


class IdFactory:
    """Stable ``sys_id`` values and UUIDs derived from the seed and a name."""

    def __init__(self, seed: int) -> None:
        self._prefix = f"sim:{seed}:".encode()
        self._namespace = uuid.uuid5(uuid.NAMESPACE_URL, f"urn:csm-fsm-bridge:simulate:{seed}")

    def sys_id(self, *parts: object) -> str:
        """32 lowercase hex characters, the same for the same seed and parts."""
        name = ":".join(str(part) for part in parts).encode()
        return hashlib.blake2b(self._prefix + name, digest_size=16).hexdigest()

    def uuid(self, *parts: object) -> str:
        """A name-based (version 5) UUID in the seed's namespace."""
        return str(uuid.uuid5(self._namespace, ":".join(str(part) for part in parts)))


class SimClock:
    """Simulated UTC time that only moves when told to, formatted the contract's way."""

    def __init__(self, start: datetime = SIM_EPOCH) -> None:
        self._now = start
        self._text = _format(start)

    def advance(self, seconds: float) -> None:
        if seconds > 0:
            self._now += timedelta(seconds=seconds)
            self._text = _format(self._now)

    def now(self) -> str:
        """``YYYY-MM-DD HH:MM:SS``."""
        return self._text

    def later(self, seconds: float) -> str:
        """A time ``seconds`` after now (e.g. a task's expected start), without moving the clock."""
        return _format(self._now + timedelta(seconds=seconds))


def _format(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%d %H:%M:%S")


class NumberSeries:
    """Record numbers per prefix: ``CS0001001``, ``WO0010001``, … (7 digits, like the examples)."""

    _STARTS = {"WO": 10001, "WOT": 10001, "INC": 12001, "PRB": 4001, "REQ": 2001}

    def __init__(self) -> None:
        self._next: dict[str, int] = {}

    def next(self, prefix: str) -> str:
        value = self._next.get(prefix, self._STARTS.get(prefix, 1001))
        self._next[prefix] = value + 1
        return f"{prefix}{value:07d}"
