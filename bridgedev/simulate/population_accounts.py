"""Accounts with their contacts, relationships, consumers and orders, for the population."""

from __future__ import annotations

import random
from collections.abc import Iterator
from typing import Any

from bridgedev.simulate import vocab
from bridgedev.simulate.world import SimWorld

_CUSTOMER_ROLES = (
    ("customer", 45),
    ("customer,customer_admin", 15),
    ("customer_admin", 8),
    ("", 15),
    ("customer,partner", 2),
    ("customer,customer_admin,partner_admin", 2),
)
_PARTNER_ROLES = (("partner", 50), ("partner,partner_admin", 25), ("partner_admin", 10), ("", 15))


def _pick(rng: random.Random, weighted: tuple[tuple[str, int], ...]) -> str:
    return rng.choices([v for v, _ in weighted], [w for _, w in weighted])[0]


def _person(world: SimWorld, rng: random.Random, kind: str, domain: str) -> tuple[str, dict[str, str]]:
    serial = world.numbers.next(kind)
    name = f"{rng.choice(vocab.FIRST_NAMES)} {rng.choice(vocab.LAST_NAMES)}"
    email = f"{name.split()[0].lower()}.{serial[len(kind) :].lstrip('0')}@{domain}"
    return world.ids.sys_id(kind, serial), {"name": name, "email": email}


def _account(world: SimWorld, rng: random.Random, name: str, parent: str, *, partner: bool) -> Iterator[dict[str, Any]]:
    index = world.index
    number = world.numbers.next("ACC")
    sys_id = world.ids.sys_id("account", number)
    site = world.reference_id("site", number, f"{name} {rng.choice(vocab.SITES)}")
    index.site_of_account[sys_id] = site
    domain = name.split()[0].lower().replace("&", "and") + ".example"
    contacts = [_person(world, rng, "contact", domain) for _ in range(rng.randint(1, 4))]
    for contact_id, person in contacts:
        world.store.set_label(contact_id, person["name"])
    (index.partner_accounts if partner else index.customer_accounts).append(sys_id)
    if parent:
        index.account_parent[sys_id] = parent
    index.assets_by_account[sys_id] = [
        world.reference_id("asset", f"{number}:{i}", f"P{rng.randrange(10**7):07d}") for i in range(rng.randint(0, 3))
    ]
    yield world.events.insert(
        "customer_account",
        sys_id,
        {
            "number": number,
            "name": name,
            "parent": parent,
            "primary_contact": contacts[0][0],
            "customer": "false" if partner else "true",
            "partner": "true" if partner else "false",
        },
        by=rng.choice(vocab.AGENTS),
        label=name,
    )
    roles = _PARTNER_ROLES if partner else _CUSTOMER_ROLES
    for i, (contact_id, person) in enumerate(contacts):
        admin = "partner,partner_admin" if partner else "customer,customer_admin"
        role = admin if i == 0 else _pick(rng, roles)  # the primary contact administers the account
        index.contacts.append(contact_id)
        index.contacts_by_account.setdefault(sys_id, []).append(contact_id)
        yield world.events.insert(
            "customer_contact",
            contact_id,
            {
                **person,
                "account": sys_id,
                "roles": role,
                "location": site,
            },
            by=rng.choice(vocab.AGENTS),
            label=person["name"],
        )


def partners(world: SimWorld, rng: random.Random, count: int) -> Iterator[dict[str, Any]]:
    for i in range(count):
        base = vocab.PARTNER_NAMES[i % len(vocab.PARTNER_NAMES)]
        name = base if i < len(vocab.PARTNER_NAMES) else f"{base} {i // len(vocab.PARTNER_NAMES) + 1}"
        yield from _account(world, rng, name, "", partner=True)


def customers(world: SimWorld, rng: random.Random, count: int) -> Iterator[dict[str, Any]]:
    """Families: a root, up to two children, each with up to two grandchildren (depth ≤ 3)."""
    created = family = 0
    while created < count:
        family += 1
        stem = vocab.COMPANY_STEMS[family % len(vocab.COMPANY_STEMS)]
        root_name = f"{stem} {rng.choice(vocab.COMPANY_SUFFIXES)} {family}"
        yield from _account(world, rng, root_name, "", partner=False)
        root = world.index.customer_accounts[-1]
        created += 1
        if rng.random() < 0.5:
            continue
        for branch in rng.sample(vocab.BRANCH_NAMES, rng.randint(1, 2)):
            if created >= count:
                break
            yield from _account(world, rng, f"{root_name} {branch}", root, partner=False)
            child = world.index.customer_accounts[-1]
            created += 1
            for g in range(rng.randint(0, 2)):
                if created >= count:
                    break
                yield from _account(world, rng, f"{root_name} {branch} {g + 1}", child, partner=False)
                created += 1


def relationships(world: SimWorld, rng: random.Random) -> Iterator[dict[str, Any]]:
    index = world.index
    roots = [a for a in index.customer_accounts if a not in index.account_parent]
    for account in roots:
        roll = rng.random()
        if index.partner_accounts and roll < 0.5:
            partner = rng.choice(index.partner_accounts)
            index.partners_of_account.setdefault(account, []).append(partner)
            yield relationship(world, rng, account, partner, "partner_of")
        elif index.partner_accounts and roll < 0.7:
            partner = rng.choice(index.partner_accounts)
            index.partners_of_account.setdefault(account, []).append(partner)
            yield relationship(world, rng, partner, account, "customer_of")
        elif len(roots) > 1 and roll < 0.9:
            other = rng.choice(roots)
            if other != account:
                yield relationship(world, rng, account, other, "related")
    for contact in index.contacts:
        if rng.random() < 0.08 and len(index.customer_accounts) > 1:
            yield contact_relationship(world, rng, contact, rng.choice(index.customer_accounts))


def relationship(world: SimWorld, rng: random.Random, from_company: str, to_company: str, kind: str) -> dict[str, Any]:
    """Insert an ``account_relationship`` (used by the population and the workload)."""
    sys_id = world.ids.sys_id("account_relationship", len(world.store), from_company, to_company)
    world.index.account_relationships.add(sys_id)
    return world.events.insert(
        "account_relationship",
        sys_id,
        {
            "from_company": from_company,
            "to_company": to_company,
            "relationship_type": kind,
        },
        by=rng.choice(vocab.AGENTS),
    )


def contact_relationship(world: SimWorld, rng: random.Random, contact: str, company: str) -> dict[str, Any]:
    """Insert a ``sn_customerservice_contact_relationship``: the contact also acts for ``company``."""
    sys_id = world.ids.sys_id("contact_relationship", len(world.store), contact, company)
    world.index.contact_relationships.add(sys_id)
    return world.events.insert(
        "sn_customerservice_contact_relationship",
        sys_id,
        {"contact": contact, "company": company},
        by=rng.choice(vocab.AGENTS),
    )


def consumers(world: SimWorld, rng: random.Random, count: int) -> Iterator[dict[str, Any]]:
    for _ in range(count):
        sys_id, person = _person(world, rng, "consumer", "mail.example")
        world.index.consumers.append(sys_id)
        yield world.events.insert(
            "csm_consumer",
            sys_id,
            {
                **person,
                "location": rng.choice(world.index.locations),
            },
            by=rng.choice(vocab.AGENTS),
            label=person["name"],
        )


def configuration_items(world: SimWorld, rng: random.Random) -> Iterator[dict[str, Any]]:
    """The customers' configuration items (ITSM ``cmdb_ci``): up to three per account, most at
    the account's site (where its contacts are), some elsewhere."""
    for account in world.index.customer_accounts:
        for _ in range(rng.choice((0, 1, 1, 2, 3))):
            yield configuration_item(world, rng, account)


def configuration_item(world: SimWorld, rng: random.Random, account: str) -> dict[str, Any]:
    """Insert a ``cmdb_ci`` of ``account`` (used by the population and the workload)."""
    index = world.index
    serial = len(index.cmdb_cis) + 1
    name = f"{rng.choice(vocab.CI_CLASSES)}-{serial:05d}"
    sys_id = world.ids.sys_id("cmdb_ci", serial)
    index.cmdb_cis.append(sys_id)
    index.cmdb_cis_by_account.setdefault(account, []).append(sys_id)
    return world.events.insert(
        "cmdb_ci",
        sys_id,
        {
            "name": name,
            "location": ci_site(world, rng, account),
            "company": account,
            "operational_status": rng.choice("1111112"),
        },
        by=rng.choice(vocab.ITIL_USERS),
        label=name,
    )


def ci_site(world: SimWorld, rng: random.Random, account: str) -> str:
    """Where a CI of ``account`` stands: mostly the account's site, sometimes another city."""
    site = world.index.site_of_account.get(account, "")
    return site if site and rng.random() < 0.6 else rng.choice(world.index.locations)


def orders(world: SimWorld, rng: random.Random) -> Iterator[dict[str, Any]]:
    index = world.index
    for account in index.customer_accounts:
        for _ in range(rng.choice((0, 0, 0, 1, 1, 2))):
            yield from _order(world, rng, account, rng.choice(index.contacts_by_account[account]))


def _order(world: SimWorld, rng: random.Random, account: str, contact: str) -> Iterator[dict[str, Any]]:
    number = world.numbers.next("ORD")
    order = world.ids.sys_id("order", number)
    world.index.orders_by_account.setdefault(account, []).append(order)
    yield world.events.insert(
        "csm_order",
        order,
        {
            "number": number,
            "account": account,
            "contact": contact,
            "consumer": "",
            "state": rng.choice(("new", "in_progress", "fulfilled")),
        },
        by=rng.choice(vocab.AGENTS),
        label=number,
    )
    ship_to = world.store.get(contact, "location")
    for line in range(rng.randint(1, 3)):
        item = world.ids.sys_id("order_line", number, line)
        world.index.line_items_by_order.setdefault(order, []).append(item)
        yield world.events.insert(
            "csm_order_line_item",
            item,
            {
                "order": order,
                "product": rng.choice(world.index.products),
                "quantity": str(rng.randint(1, 20)),
                "state": rng.choice(("new", "shipped", "delivered")),
                "ship_to": ship_to,
            },
            by=rng.choice(vocab.AGENTS),
            label=f"{number}-{line + 1}",
        )
