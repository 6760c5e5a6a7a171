"""Fault points for fault tests; inert unless ``BRIDGE_FAILPOINTS`` is set.

``BRIDGE_FAILPOINTS="after_store_commit=0.05,after_publish=0.05"`` makes the process kill
itself (SIGKILL: no clean-up, no flush) with that probability each time it passes that point;
``inside_batch=0.05:raise`` raises :class:`FailpointError` there instead, the way a bug would.
The points sit where a fault is most telling for at-least-once delivery:

* ``inside_batch`` — the flows ran, nothing is written yet;
* ``after_store_commit`` — the store committed, nothing published, offsets not committed;
* ``after_publish`` — the outbox rows are published but not marked sent, offsets not committed.
"""

from __future__ import annotations

import os
import random
import signal

POINTS = ("inside_batch", "after_store_commit", "after_publish")
ACTIONS = ("kill", "raise")


class FailpointError(RuntimeError):
    """Raised at a fault point set to ``raise``: an unexpected, non-transient error."""


def _parse(spec: str) -> dict[str, tuple[float, str]]:
    points: dict[str, tuple[float, str]] = {}
    for item in filter(None, (part.strip() for part in spec.split(","))):
        name, _, setting = item.partition("=")
        probability, _, action = setting.partition(":")
        if name not in POINTS:
            raise ValueError(f"unknown failpoint {name!r}; known: {', '.join(POINTS)}")
        if action and action not in ACTIONS:
            raise ValueError(f"unknown failpoint action {action!r}; known: {', '.join(ACTIONS)}")
        points[name] = (float(probability or 1.0), action or "kill")
    return points


_ACTIVE = _parse(os.environ.get("BRIDGE_FAILPOINTS", ""))


def failpoint(name: str) -> None:
    probability, action = _ACTIVE.get(name, (0.0, "kill"))
    if probability and random.random() < probability:
        if action == "raise":
            raise FailpointError(f"failpoint {name}")
        os.kill(os.getpid(), signal.SIGKILL)
