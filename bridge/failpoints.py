"""Crash points for fault tests; inert unless ``BRIDGE_FAILPOINTS`` is set.

``BRIDGE_FAILPOINTS="after_store_commit=0.05,after_publish=0.05"`` makes the process kill
itself (SIGKILL: no clean-up, no flush) with that probability each time it passes that point.
The points sit where a crash is most telling for at-least-once delivery:

* ``inside_batch`` — the flows ran, nothing is written yet;
* ``after_store_commit`` — the store committed, nothing published, offsets not committed;
* ``after_publish`` — the outbox rows are published but not marked sent, offsets not committed.
"""

from __future__ import annotations

import os
import random
import signal

POINTS = ("inside_batch", "after_store_commit", "after_publish")


def _parse(spec: str) -> dict[str, float]:
    points: dict[str, float] = {}
    for item in filter(None, (part.strip() for part in spec.split(","))):
        name, _, probability = item.partition("=")
        if name not in POINTS:
            raise ValueError(f"unknown failpoint {name!r}; known: {', '.join(POINTS)}")
        points[name] = float(probability or 1.0)
    return points


_ACTIVE = _parse(os.environ.get("BRIDGE_FAILPOINTS", ""))


def failpoint(name: str) -> None:
    probability = _ACTIVE.get(name)
    if probability and random.random() < probability:
        os.kill(os.getpid(), signal.SIGKILL)
