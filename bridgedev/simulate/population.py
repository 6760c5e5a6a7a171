"""A deterministic, realistic CSM population, emitted as insert events in dependency order.

Customer accounts in hierarchies (up to three levels), partner accounts, two-way account
relationships, contacts with roles, contact relationships, consumers, orders with line items,
the customers' configuration items (ITSM ``cmdb_ci``, each at a site); then cases of every kind
(``population_cases``), some naming a CI. Assets, products, locations, groups and users exist
only as referenced ids with labels. Memory grows linearly with the size.
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from bridgedev.simulate import vocab
from bridgedev.simulate.population_accounts import (
    configuration_items,
    consumers,
    customers,
    orders,
    partners,
    relationships,
)
from bridgedev.simulate.population_cases import build_cases, build_standalone_records
from bridgedev.simulate.world import SimWorld


@dataclass(frozen=True)
class PopulationSize:
    """How many of each thing to create (contacts, orders and assets follow the accounts)."""

    customer_accounts: int
    partner_accounts: int
    consumers: int
    cases: int
    standalone_records: int  # FSM work orders and ITSM records that exist without a case


SIZES: dict[str, PopulationSize] = {
    "tiny": PopulationSize(6, 2, 3, 24, 8),
    "small": PopulationSize(60, 6, 30, 600, 40),
    "medium": PopulationSize(1_000, 50, 500, 10_000, 400),
    "large": PopulationSize(10_000, 400, 5_000, 100_000, 2_000),
}


def populate(world: SimWorld, size: PopulationSize | str) -> Iterator[dict[str, Any]]:
    """Create the population in ``world`` and yield one insert event per record."""
    plan = SIZES[size] if isinstance(size, str) else size
    rng = random.Random(f"{world.seed}:population")
    _reference_pools(world)
    builders = (
        partners(world, rng, plan.partner_accounts),
        customers(world, rng, plan.customer_accounts),
        relationships(world, rng),
        consumers(world, rng, plan.consumers),
        orders(world, rng),
        configuration_items(world, rng),
        build_cases(world, rng, plan.cases),
        build_standalone_records(world, rng, plan.standalone_records),
    )
    for builder in builders:
        for event in builder:
            world.clock.advance(1)
            yield event


def summary(world: SimWorld) -> dict[str, Any]:
    """Counts of what the population holds, for ``bridge simulate population``."""
    index = world.index
    return {
        "seed": world.seed,
        "records": len(world.store),
        "customer_accounts": len(index.customer_accounts),
        "partner_accounts": len(index.partner_accounts),
        "hierarchy_children": len(index.account_parent),
        "contacts": len(index.contacts),
        "consumers": len(index.consumers),
        "account_relationships": len(index.account_relationships),
        "contact_relationships": len(index.contact_relationships),
        "orders": sum(len(orders) for orders in index.orders_by_account.values()),
        "configuration_items": len(index.cmdb_cis),
        "cases": len(index.cases),
        "major_cases": len(index.major_cases),
        "open_cases": len(world.open_cases),
        "active_fsm_itsm": {table: len(ids) for table, ids in sorted(world.active.items())},
    }


def _reference_pools(world: SimWorld) -> None:
    index = world.index
    index.products = [world.reference_id("product", i, p) for i, p in enumerate(vocab.PRODUCTS)]
    index.groups = [world.reference_id("group", i, g) for i, g in enumerate(vocab.GROUPS)]
    index.agents = [world.reference_id("user", i, u) for i, u in enumerate(vocab.AGENTS)]
    index.technicians = [world.reference_id("tech", i, t) for i, t in enumerate(vocab.TECHNICIANS)]
    index.locations = [world.reference_id("city", i, c) for i, c in enumerate(vocab.CITIES)]
