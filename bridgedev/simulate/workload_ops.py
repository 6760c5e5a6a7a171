"""What FSM technicians and ITSM staff do on their own: move work orders and tasks along, add
tasks and notes, take incidents, problems, changes and requests through their lifecycles.
"""

from __future__ import annotations

import random
from typing import Any

from bridgedev.simulate import vocab
from bridgedev.simulate.lifecycles import create_record, next_step, track
from bridgedev.simulate.population_cases import standalone_record
from bridgedev.simulate.world import SimWorld

Event = dict[str, Any] | None
_ITSM_TABLES = ("incident", "problem", "change_request", "sc_request")
#: How often FSM/ITSM raise a record of their own (and always when they have nothing open).
_NEW_RECORD_SHARE = 0.08


def work_order_progress(world: SimWorld, rng: random.Random) -> Event:
    """A technician or dispatcher moves a work order or task on, or adds a task to a work order."""
    roll = rng.random()
    if roll < 0.4 and world.active["wm_task"]:
        return _step(world, rng, world.active["wm_task"].choice(rng))
    order = world.active["wm_order"].choice(rng)
    if order is None or rng.random() < _NEW_RECORD_SHARE:
        return standalone_record(world, rng, "wm_order")
    if roll < 0.6 and world.store.get(order, "state") != "draft":
        return add_task(world, rng, order)
    return _step(world, rng, order)


def add_task(world: SimWorld, rng: random.Random, order: str) -> dict[str, Any]:
    """Insert a ``wm_task`` under the work order, assigned to a technician."""
    return create_record(
        world,
        "wm_task",
        {
            "parent": order,
            "state": "assigned",
            "short_description": rng.choice(vocab.TASK_DESCRIPTIONS),
            "assigned_to": rng.choice(world.index.technicians),
            "expected_start": world.clock.later(rng.randrange(3600, 3 * 86400, 900)),
        },
        by="dispatcher",
    )


def itsm_lifecycle(world: SimWorld, rng: random.Random) -> Event:
    """One step of an active incident, problem, change or request."""
    tables = [t for t in _ITSM_TABLES if world.active[t]]
    if not tables or rng.random() < _NEW_RECORD_SHARE:
        return standalone_record(world, rng, rng.choice(_ITSM_TABLES))
    return _step(world, rng, world.active[rng.choice(tables)].choice(rng))


def _step(world: SimWorld, rng: random.Random, sys_id: str | None) -> Event:
    if sys_id is None:
        return None
    values, journal, by = next_step(world, rng, sys_id)
    event = world.events.update(sys_id, values, by=by, journal=journal)
    track(world, sys_id)
    return event
