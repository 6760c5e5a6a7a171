"""The state the three simulated systems share: records, ids, time, and who-is-who indexes.

The population builder fills it, the workload changes it, the responders answer commands
against it. Single-threaded by design (one asyncio loop), so no locking.
"""

from __future__ import annotations

import random
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass, field

from bridgedev.simulate.events import EventFactory
from bridgedev.simulate.ids import IdFactory, NumberSeries, SimClock
from bridgedev.simulate.store import RecordStore


class IndexedSet:
    """A set of sys_ids with O(1) add, discard and uniform random choice."""

    def __init__(self) -> None:
        self._items: list[str] = []
        self._where: dict[str, int] = {}

    def __len__(self) -> int:
        return len(self._items)

    def __contains__(self, item: object) -> bool:
        return item in self._where

    def __iter__(self) -> Iterator[str]:
        return iter(list(self._items))

    def add(self, item: str) -> None:
        if item not in self._where:
            self._where[item] = len(self._items)
            self._items.append(item)

    def discard(self, item: str) -> None:
        index = self._where.pop(item, None)
        if index is None:
            return
        last = self._items.pop()
        if index < len(self._items):
            self._items[index] = last
            self._where[last] = index

    def choice(self, rng: random.Random) -> str | None:
        return self._items[rng.randrange(len(self._items))] if self._items else None


@dataclass
class PopulationIndex:
    """Who is who in the population; the workload picks its targets from here."""

    customer_accounts: list[str] = field(default_factory=list)
    partner_accounts: list[str] = field(default_factory=list)
    account_parent: dict[str, str] = field(default_factory=dict)
    detached_parent: dict[str, str] = field(default_factory=dict)  # branches moved out, to return
    contacts_by_account: dict[str, list[str]] = field(default_factory=dict)
    contacts: list[str] = field(default_factory=list)
    consumers: list[str] = field(default_factory=list)
    cases: list[str] = field(default_factory=list)
    major_cases: list[str] = field(default_factory=list)
    orders_by_account: dict[str, list[str]] = field(default_factory=dict)
    line_items_by_order: dict[str, list[str]] = field(default_factory=dict)
    account_relationships: IndexedSet = field(default_factory=IndexedSet)
    contact_relationships: IndexedSet = field(default_factory=IndexedSet)
    partners_of_account: dict[str, list[str]] = field(default_factory=dict)
    locations: list[str] = field(default_factory=list)
    products: list[str] = field(default_factory=list)
    assets_by_account: dict[str, list[str]] = field(default_factory=dict)
    site_of_account: dict[str, str] = field(default_factory=dict)  # its contacts' location
    cmdb_cis: list[str] = field(default_factory=list)
    cmdb_cis_by_account: dict[str, list[str]] = field(default_factory=dict)
    groups: list[str] = field(default_factory=list)
    agents: list[str] = field(default_factory=list)
    technicians: list[str] = field(default_factory=list)


class SimWorld:
    """Everything the simulators share for one seed."""

    def __init__(self, seed: int) -> None:
        self.seed = seed
        self.ids = IdFactory(seed)
        self.clock = SimClock()
        self.store = RecordStore()
        self.events = EventFactory(self.store, self.ids, self.clock)
        self.numbers = NumberSeries()
        self.index = PopulationIndex()
        #: FSM/ITSM records not yet in a final state, by table: what technicians and agents work on.
        self.active: defaultdict[str, IndexedSet] = defaultdict(IndexedSet)
        #: Open cases (not resolved, closed or canceled): what agents act on.
        self.open_cases = IndexedSet()

    def reference_id(self, kind: str, n: int | str, label: str) -> str:
        """A sys_id for something only ever referenced (asset, location, group…), with its label."""
        sys_id = self.ids.sys_id(kind, n)
        self.store.set_label(sys_id, label)
        return sys_id
