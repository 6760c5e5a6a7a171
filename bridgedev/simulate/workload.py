"""A deterministic stream of changes from the three systems, at a chosen mix.

``Workload.messages()`` is a generator: large runs stream without holding the stream in memory
(only the population's state and a short window of recent events for duplicates are kept).
"""

from __future__ import annotations

import random
from collections import deque
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from bridgedev.simulate.malformed import corrupt
from bridgedev.simulate.messages import SimMessage, message_of
from bridgedev.simulate.population import PopulationSize, populate
from bridgedev.simulate.workload_csm import (
    account_change,
    case_action,
    case_update,
    ci_change,
    contact_change,
    new_case,
    relationship_change,
)
from bridgedev.simulate.workload_ops import itsm_lifecycle, work_order_progress
from bridgedev.simulate.world import SimWorld

ChangeMaker = Callable[[SimWorld, random.Random], dict[str, Any] | None]

CHANGE_KINDS: dict[str, ChangeMaker] = {
    "case_update": case_update,
    "new_case": new_case,
    "create_work_order": lambda w, r: case_action(w, r, "create_work_order"),
    "create_incident": lambda w, r: case_action(w, r, "create_incident"),
    "create_problem": lambda w, r: case_action(w, r, "create_problem"),
    "create_change": lambda w, r: case_action(w, r, "create_change"),
    "create_request": lambda w, r: case_action(w, r, "create_request"),
    "work_order_progress": work_order_progress,
    "itsm_lifecycle": itsm_lifecycle,
    "account_change": account_change,
    "contact_change": contact_change,
    "relationship_change": relationship_change,
    "ci_change": ci_change,
}


@dataclass(frozen=True)
class Mix:
    """Relative weights of the change kinds, plus the shares of duplicates and malformed events."""

    weights: Mapping[str, float]
    duplicate_share: float = 0.02
    malformed_share: float = 0.01

    def __post_init__(self) -> None:
        unknown = set(self.weights) - set(CHANGE_KINDS)
        if unknown:
            raise ValueError(f"unknown change kinds: {sorted(unknown)}")
        if not 0 <= self.duplicate_share + self.malformed_share < 1:
            raise ValueError("duplicate_share + malformed_share must be in [0, 1)")


_STANDARD = {
    "case_update": 30,
    "new_case": 5,
    "create_work_order": 8,
    "create_incident": 3,
    "create_problem": 2,
    "create_change": 2,
    "create_request": 3,
    "work_order_progress": 15,
    "itsm_lifecycle": 15,
    "account_change": 3,
    "contact_change": 4,
    "relationship_change": 3,
    "ci_change": 2,
}
MIXES: dict[str, Mix] = {
    "standard": Mix(_STANDARD),
    "clean": Mix(_STANDARD, duplicate_share=0.0, malformed_share=0.0),
    "csm": Mix({k: v for k, v in _STANDARD.items() if k not in ("work_order_progress", "itsm_lifecycle", "ci_change")}),
    "lifecycle": Mix({"work_order_progress": 50, "itsm_lifecycle": 50}, duplicate_share=0.0, malformed_share=0.0),
    "hostile": Mix(_STANDARD, duplicate_share=0.1, malformed_share=0.1),
}


def population_messages(world: SimWorld, size: PopulationSize | str) -> Iterator[SimMessage]:
    for event in populate(world, size):
        yield message_of(event, f"population:{event['table']}")


class EmptyWorldError(ValueError):
    """A workload was asked of a world with no records."""


class Workload:
    """Changes, duplicates and malformed events over a populated world, deterministic per seed."""

    def __init__(self, world: SimWorld, mix: Mix | str = "standard", *, window: int = 256) -> None:
        self.world = world
        self.mix = MIXES[mix] if isinstance(mix, str) else mix
        self.rng = random.Random(f"{world.seed}:workload")
        self._recent: deque[SimMessage] = deque(maxlen=window)
        self._kinds = list(self.mix.weights)
        self._weights = [self.mix.weights[k] for k in self._kinds]
        self._malformed = 0

    def messages(self, count: int | None = None) -> Iterator[SimMessage]:
        """Yield ``count`` messages (forever when None)."""
        if not len(self.world.store):
            raise EmptyWorldError("the workload changes existing records: populate the world first")
        produced = 0
        while count is None or produced < count:
            yield self.next_message()
            produced += 1

    def next_message(self) -> SimMessage:
        rng = self.rng
        self.world.clock.advance(rng.uniform(0.2, 8.0))
        roll = rng.random()
        if self._recent and roll < self.mix.malformed_share:
            return self._broken(self._recent[rng.randrange(len(self._recent))])
        if self._recent and roll < self.mix.malformed_share + self.mix.duplicate_share:
            again = self._recent[rng.randrange(len(self._recent))]
            return SimMessage(again.source, again.key, again.value, f"duplicate:{again.kind}", again.event)
        message = self.change()
        self._recent.append(message)
        return message

    def change(self, kind: str | None = None) -> SimMessage:
        """One valid change of the given (or a random) kind; falls back to other kinds when idle."""
        kind = kind or self.rng.choices(self._kinds, self._weights)[0]
        for candidate in (kind, "case_update", "new_case"):
            event = CHANGE_KINDS[candidate](self.world, self.rng)
            if event is not None:
                return message_of(event, candidate)
        raise RuntimeError("the population is empty")  # new_case always produces an event

    def _broken(self, model: SimMessage) -> SimMessage:
        assert model.event is not None
        self._malformed += 1
        reason, raw = corrupt(model.event, self.rng, self.world.ids.uuid("malformed", self._malformed))
        return SimMessage(model.source, model.key, raw, f"malformed:{reason}")


def simulation_stream(
    seed: int,
    *,
    size: PopulationSize | str = "small",
    mix: Mix | str = "standard",
    count: int | None = None,
    world: SimWorld | None = None,
) -> Iterator[SimMessage]:
    """The population's inserts, then ``count`` workload messages (forever when None)."""
    world = world or SimWorld(seed)
    yield from population_messages(world, size)
    yield from Workload(world, mix).messages(count)
