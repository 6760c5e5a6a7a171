"""Fault points for fault tests; inert unless ``BRIDGE_FAILPOINTS`` is set.

``BRIDGE_FAILPOINTS="after_store_commit=0.05,after_publish=0.05"`` makes the process kill
itself (SIGKILL: no clean-up, no flush) with that probability each time it passes that point;
``inside_batch=0.05:raise`` raises :class:`FailpointError` there instead, the way a bug would.
``publish_acknowledged=1:hold`` holds the process there (a test decides when a crash lands or
when the broker's acknowledgement gets through): each pass appends a line to
``$BRIDGE_FAILPOINT_DIR/<point>.reached`` and waits as long as ``<point>.hold`` exists there.
The points sit where a fault is most telling for at-least-once delivery:

* ``inside_batch`` — the flows ran, nothing is written yet;
* ``after_store_commit`` — the store committed, nothing published, offsets not committed;
* ``after_publish`` — the outbox rows are published but not marked sent, offsets not committed;
* ``publish_acknowledged`` (async: a hold lets the event loop run, so the next batch goes on) —
  the broker acknowledged a batch's outputs, the bridge has not taken note: its offsets wait.
"""

from __future__ import annotations

import asyncio
import os
import random
import signal
import time
from pathlib import Path

POINTS = ("inside_batch", "after_store_commit", "after_publish", "publish_acknowledged")
ACTIONS = ("kill", "raise", "hold")
_HOLD_POLL_S = 0.05


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
_DIR = Path(os.environ.get("BRIDGE_FAILPOINT_DIR", "."))


def _fires(name: str) -> str | None:
    """The action to take at this pass, or None."""
    probability, action = _ACTIVE.get(name, (0.0, "kill"))
    return action if probability and random.random() < probability else None


def _act(name: str, action: str) -> bool:
    """Kill or raise; True when the pass is to be held instead (announced as reached)."""
    if action == "raise":
        raise FailpointError(f"failpoint {name}")
    if action == "kill":
        os.kill(os.getpid(), signal.SIGKILL)
    with (_DIR / f"{name}.reached").open("a", encoding="utf-8") as reached:
        reached.write(f"{os.getpid()}\n")
    return True


def failpoint(name: str) -> None:
    action = _fires(name)
    if action is not None and _act(name, action):
        while (_DIR / f"{name}.hold").exists():  # blocks the event loop: the batch stands still
            time.sleep(_HOLD_POLL_S)


async def failpoint_async(name: str) -> None:
    """:func:`failpoint` for a point on the event loop: a hold lets other tasks run."""
    action = _fires(name)
    if action is not None and _act(name, action):
        while (_DIR / f"{name}.hold").exists():
            await asyncio.sleep(_HOLD_POLL_S)
