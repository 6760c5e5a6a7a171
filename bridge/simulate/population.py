"""A deterministic, realistic CSM population, emitted as insert events in dependency order.

Customer accounts in hierarchies (up to three levels), partner accounts, two-way account
relationships, contacts with roles, contact relationships, consumers, orders with line items;
then cases of every kind (``population_cases``). Assets, products, locations, CIs, groups and
users exist only as referenced ids with labels. Memory grows linearly with the size.
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from dataclasses import asdict, dataclass
from typing import Any

from bridge.simulate import vocab
from bridge.simulate.population_cases import build_cases, build_standalone_records
from bridge.simulate.world import SimWorld


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

_CUSTOMER_ROLES = (("customer", 45), ("customer,customer_admin", 15), ("customer_admin", 8),
                   ("", 15), ("customer,partner", 2), ("customer,customer_admin,partner_admin", 2))
_PARTNER_ROLES = (("partner", 50), ("partner,partner_admin", 25), ("partner_admin", 10), ("", 15))


def populate(world: SimWorld, size: PopulationSize | str) -> Iterator[dict[str, Any]]:
    """Create the population in ``world`` and yield one insert event per record."""
    plan = SIZES[size] if isinstance(size, str) else size
    rng = random.Random(f"{world.seed}:population")
    _reference_pools(world, plan)
    builders = (_partners(world, rng, plan), _customers(world, rng, plan),
                _relationships(world, rng), _consumers(world, rng, plan), _orders(world, rng),
                build_cases(world, rng, plan.cases),
                build_standalone_records(world, rng, plan.standalone_records))
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
        "cases": len(index.cases),
        "major_cases": len(index.major_cases),
        "open_cases": len(world.open_cases),
        "active_fsm_itsm": {table: len(ids) for table, ids in sorted(world.active.items())},
    }


def size_summary(name: str) -> dict[str, int]:
    return asdict(SIZES[name])


def _pick(rng: random.Random, weighted: tuple[tuple[str, int], ...]) -> str:
    return rng.choices([v for v, _ in weighted], [w for _, w in weighted])[0]


def _reference_pools(world: SimWorld, plan: PopulationSize) -> None:
    index = world.index
    index.products = [world.reference_id("product", i, p) for i, p in enumerate(vocab.PRODUCTS)]
    index.groups = [world.reference_id("group", i, g) for i, g in enumerate(vocab.GROUPS)]
    index.agents = [world.reference_id("user", i, u) for i, u in enumerate(vocab.AGENTS)]
    index.technicians = [world.reference_id("tech", i, t) for i, t in enumerate(vocab.TECHNICIANS)]
    index.cmdb_cis = [world.reference_id("ci", i, f"ci-{i:05d}")
                      for i in range(max(10, plan.customer_accounts // 5))]
    index.locations = [world.reference_id("city", i, c) for i, c in enumerate(vocab.CITIES)]


def _person(world: SimWorld, rng: random.Random, kind: str, domain: str) -> tuple[str, dict[str, str]]:
    n = len(world.index.contacts) + len(world.index.consumers)
    name = f"{rng.choice(vocab.FIRST_NAMES)} {rng.choice(vocab.LAST_NAMES)}"
    email = f"{name.split()[0].lower()}.{n}@{domain}"
    return world.ids.sys_id(kind, n), {"name": name, "email": email}


def _account(world: SimWorld, rng: random.Random, name: str, parent: str, *,
             partner: bool) -> Iterator[dict[str, Any]]:
    index = world.index
    number = world.numbers.next("ACC")
    sys_id = world.ids.sys_id("account", number)
    site = world.reference_id("site", number, f"{name} {rng.choice(vocab.SITES)}")
    domain = name.split()[0].lower().replace("&", "and") + ".example"
    contacts = [_person(world, rng, "contact", domain) for _ in range(rng.randint(1, 4))]
    for contact_id, person in contacts:
        world.store.set_label(contact_id, person["name"])
    (index.partner_accounts if partner else index.customer_accounts).append(sys_id)
    if parent:
        index.account_parent[sys_id] = parent
    index.assets_by_account[sys_id] = [
        world.reference_id("asset", f"{number}:{i}", f"P{rng.randrange(10**7):07d}")
        for i in range(rng.randint(0, 3))
    ]
    yield world.events.insert("customer_account", sys_id, {
        "number": number, "name": name, "parent": parent, "primary_contact": contacts[0][0],
        "customer": "false" if partner else "true", "partner": "true" if partner else "false",
    }, by=rng.choice(vocab.AGENTS), label=name)
    roles = _PARTNER_ROLES if partner else _CUSTOMER_ROLES
    for i, (contact_id, person) in enumerate(contacts):
        role = ("partner,partner_admin" if partner else "customer,customer_admin") if i == 0 else _pick(rng, roles)
        index.contacts.append(contact_id)
        index.contacts_by_account.setdefault(sys_id, []).append(contact_id)
        yield world.events.insert("customer_contact", contact_id, {
            **person, "account": sys_id, "roles": role, "location": site,
        }, by=rng.choice(vocab.AGENTS), label=person["name"])


def _partners(world: SimWorld, rng: random.Random, plan: PopulationSize) -> Iterator[dict[str, Any]]:
    for i in range(plan.partner_accounts):
        base = vocab.PARTNER_NAMES[i % len(vocab.PARTNER_NAMES)]
        name = base if i < len(vocab.PARTNER_NAMES) else f"{base} {i // len(vocab.PARTNER_NAMES) + 1}"
        yield from _account(world, rng, name, "", partner=True)


def _customers(world: SimWorld, rng: random.Random, plan: PopulationSize) -> Iterator[dict[str, Any]]:
    """Families: a root, up to two children, each with up to two grandchildren (depth ≤ 3)."""
    created = family = 0
    while created < plan.customer_accounts:
        family += 1
        stem = vocab.COMPANY_STEMS[family % len(vocab.COMPANY_STEMS)]
        root_name = f"{stem} {rng.choice(vocab.COMPANY_SUFFIXES)} {family}"
        yield from _account(world, rng, root_name, "", partner=False)
        root = world.index.customer_accounts[-1]
        created += 1
        if rng.random() < 0.5:
            continue
        for branch in rng.sample(vocab.BRANCH_NAMES, rng.randint(1, 2)):
            if created >= plan.customer_accounts:
                break
            yield from _account(world, rng, f"{root_name} {branch}", root, partner=False)
            child = world.index.customer_accounts[-1]
            created += 1
            for g in range(rng.randint(0, 2)):
                if created >= plan.customer_accounts:
                    break
                yield from _account(world, rng, f"{root_name} {branch} {g + 1}", child, partner=False)
                created += 1


def _relationships(world: SimWorld, rng: random.Random) -> Iterator[dict[str, Any]]:
    index = world.index
    roots = [a for a in index.customer_accounts if a not in index.account_parent]
    for account in roots:
        roll = rng.random()
        if index.partner_accounts and roll < 0.6:
            partner = rng.choice(index.partner_accounts)
            index.partners_of_account.setdefault(account, []).append(partner)
            yield relationship(world, rng, account, partner, "partner_of")
        elif index.partner_accounts and roll < 0.8:
            partner = rng.choice(index.partner_accounts)
            index.partners_of_account.setdefault(account, []).append(partner)
            yield relationship(world, rng, partner, account, "customer_of")
        elif len(roots) > 1 and roll < 0.9:
            yield relationship(world, rng, account, rng.choice(roots), "related")
    for contact in index.contacts:
        if rng.random() < 0.08 and len(index.customer_accounts) > 1:
            yield contact_relationship(world, rng, contact, rng.choice(index.customer_accounts))


def relationship(world: SimWorld, rng: random.Random, from_company: str, to_company: str,
                 kind: str) -> dict[str, Any]:
    """Insert an ``account_relationship`` (used by the population and the workload)."""
    sys_id = world.ids.sys_id("account_relationship", len(world.store), from_company, to_company)
    world.index.account_relationships.add(sys_id)
    return world.events.insert("account_relationship", sys_id, {
        "from_company": from_company, "to_company": to_company, "relationship_type": kind,
    }, by=rng.choice(vocab.AGENTS))


def contact_relationship(world: SimWorld, rng: random.Random, contact: str, company: str) -> dict[str, Any]:
    """Insert a ``sn_customerservice_contact_relationship``: the contact also acts for ``company``."""
    sys_id = world.ids.sys_id("contact_relationship", len(world.store), contact, company)
    world.index.contact_relationships.add(sys_id)
    return world.events.insert("sn_customerservice_contact_relationship", sys_id,
                               {"contact": contact, "company": company}, by=rng.choice(vocab.AGENTS))


def _consumers(world: SimWorld, rng: random.Random, plan: PopulationSize) -> Iterator[dict[str, Any]]:
    for _ in range(plan.consumers):
        sys_id, person = _person(world, rng, "consumer", "mail.example")
        world.index.consumers.append(sys_id)
        yield world.events.insert("csm_consumer", sys_id, {
            **person, "location": rng.choice(world.index.locations),
        }, by=rng.choice(vocab.AGENTS), label=person["name"])


def _orders(world: SimWorld, rng: random.Random) -> Iterator[dict[str, Any]]:
    index = world.index
    for account in index.customer_accounts:
        for _ in range(rng.choice((0, 0, 0, 1, 1, 2))):
            yield from _order(world, rng, account, rng.choice(index.contacts_by_account[account]))


def _order(world: SimWorld, rng: random.Random, account: str, contact: str) -> Iterator[dict[str, Any]]:
    number = world.numbers.next("ORD")
    order = world.ids.sys_id("order", number)
    world.index.orders_by_account.setdefault(account, []).append(order)
    yield world.events.insert("csm_order", order, {
        "number": number, "account": account, "contact": contact, "consumer": "",
        "state": rng.choice(("new", "in_progress", "fulfilled")),
    }, by=rng.choice(vocab.AGENTS), label=number)
    ship_to = world.store.get(contact, "location")
    for line in range(rng.randint(1, 3)):
        item = world.ids.sys_id("order_line", number, line)
        world.index.line_items_by_order.setdefault(order, []).append(item)
        yield world.events.insert("csm_order_line_item", item, {
            "order": order, "product": rng.choice(world.index.products),
            "quantity": str(rng.randint(1, 20)), "state": rng.choice(("new", "shipped", "delivered")),
            "ship_to": ship_to,
        }, by=rng.choice(vocab.AGENTS), label=f"{number}-{line + 1}")
