"""What CSM agents do during the day: case updates and actions, new cases, account, contact and
relationship changes; and what ITSM's configuration managers do to CIs. Each function returns
one event, or None when it has nothing to act on.
"""

from __future__ import annotations

import random
from typing import Any

from bridgedev.simulate import vocab
from bridgedev.simulate.population_accounts import ci_site, configuration_item, contact_relationship, relationship
from bridgedev.simulate.population_cases import OPEN_CASE_STATES, case_values, insert_case
from bridgedev.simulate.world import SimWorld

Event = dict[str, Any] | None
_CASE_NEXT_STATE = {"1": ("10",), "10": ("18", "6"), "18": ("10",), "6": ("3", "10")}
_ROLE_SETS = (
    "customer",
    "customer,customer_admin",
    "customer_admin",
    "",
    "partner",
    "partner,partner_admin",
    "customer,partner_admin",
)


def case_update(world: SimWorld, rng: random.Random) -> Event:
    """A change to an open case: priority, contact, account, affected CI, location, short
    description, state, or a note."""
    case = world.open_cases.choice(rng)
    if case is None:
        return None
    store, index = world.store, world.index
    values: dict[str, str] = {}
    what = rng.choices(
        ("priority", "contact", "account", "short_description", "state", "note", "cmdb_ci", "location"),
        (20, 12, 6, 10, 30, 22, 5, 3),
    )[0]
    account = store.get(case, "account")
    if what == "priority":
        values["priority"] = rng.choice([p for p in "1234" if p != store.get(case, "priority")])
    elif what == "contact" and account:
        values["contact"] = rng.choice(index.contacts_by_account[account])
    elif what == "account" and account:
        values["account"] = rng.choice(index.customer_accounts)
        values["contact"] = rng.choice(index.contacts_by_account[values["account"]])
    elif what == "cmdb_ci" and account:
        cis = [ci for ci in index.cmdb_cis_by_account.get(account, []) if ci != store.get(case, "cmdb_ci")]
        values["cmdb_ci"] = rng.choice(cis) if cis and rng.random() < 0.8 else ""
    elif what == "location":
        values["location"] = rng.choice(index.locations)
    elif what == "short_description":
        values["short_description"] = f"{rng.choice(vocab.CASE_PROBLEMS)} (updated)"
    elif what == "state":
        values["state"] = rng.choice(_CASE_NEXT_STATE.get(store.get(case, "state"), ("10",)))
        if values["state"] == "6":
            values.update(resolution_code="solution_provided", close_notes="Fixed on site")
    journal = []
    if what == "note" or rng.random() < 0.25:
        element = rng.choice(("work_notes", "comments"))
        journal.append((element, rng.choice(vocab.WORK_NOTES if element == "work_notes" else vocab.COMMENTS)))
    event = world.events.update(case, values, by=rng.choice(vocab.AGENTS), journal=journal)
    if store.get(case, "state") not in OPEN_CASE_STATES:
        world.open_cases.discard(case)
    return event


def case_action(world: SimWorld, rng: random.Random, action: str) -> Event:
    """An agent presses a button on an open case (``create_work_order``, ``create_change``, …)."""
    case = world.open_cases.choice(rng)
    if case is None:
        return None
    args: dict[str, str] = {}
    if action == "create_change":
        args = (
            {"type": "normal"}
            if rng.random() < 0.5
            else {"type": "standard", "template": rng.choice(vocab.CHANGE_TEMPLATES)}
        )
    elif action == "create_request":
        args = {"cat_item": rng.choice(vocab.CAT_ITEMS)}
    return world.events.action(case, action, args, by=rng.choice(vocab.AGENTS))


def new_case(world: SimWorld, rng: random.Random) -> Event:
    values = {
        **case_values(world, rng, consumer_case=rng.random() < 0.08),
        "state": "1",
        "assigned_to": "",
        "resolution_code": "",
        "close_notes": "",
    }
    return insert_case(world, rng, values)


def account_change(world: SimWorld, rng: random.Random) -> Event:
    """Rename an account, change its primary contact, or move a branch in or out of its family."""
    index = world.index
    account = rng.choice(index.customer_accounts)
    roll = rng.random()
    if roll < 0.3:
        values = {"name": f"{world.store.get(account, 'name').split(' (')[0]} ({rng.choice(vocab.CITIES)})"}
        world.store.set_label(account, values["name"])
    elif roll < 0.7:
        values = {"primary_contact": rng.choice(index.contacts_by_account[account])}
    else:
        parent = world.store.get(account, "parent")
        if parent:
            index.detached_parent[account] = index.account_parent.pop(account, parent)
            values = {"parent": ""}
        elif account in index.detached_parent:
            values = {"parent": index.detached_parent.pop(account)}
            index.account_parent[account] = values["parent"]
        else:
            return None
    return world.events.update(account, values, by=rng.choice(vocab.AGENTS))


def contact_change(world: SimWorld, rng: random.Random) -> Event:
    """Change a contact's roles, email, location, or account (when the old account keeps
    someone)."""
    index = world.index
    contact = rng.choice(index.contacts)
    account = world.store.get(contact, "account")
    roll = rng.random()
    if roll < 0.45:
        values = {"roles": rng.choice([r for r in _ROLE_SETS if r != world.store.get(contact, "roles")])}
    elif roll < 0.6:
        site = index.site_of_account.get(account, "")
        moved = world.store.get(contact, "location") == site
        values = {"location": rng.choice(index.locations) if moved or not site else site}
    elif roll < 0.78 or len(index.contacts_by_account[account]) < 2:
        local, domain = world.store.get(contact, "email").split("@")
        values = {"email": f"{local.split('+')[0]}+{rng.randrange(100)}@{domain}"}
    else:
        target = rng.choice(index.customer_accounts)
        if target == account:
            return None
        index.contacts_by_account[account].remove(contact)
        index.contacts_by_account[target].append(contact)
        values = {"account": target}
    return world.events.update(contact, values, by=rng.choice(vocab.AGENTS))


def ci_change(world: SimWorld, rng: random.Random) -> Event:
    """ITSM moves a CI to another site, changes its operational status, or adds one."""
    index = world.index
    if not index.cmdb_cis or rng.random() < 0.15:
        return configuration_item(world, rng, rng.choice(index.customer_accounts))
    ci = rng.choice(index.cmdb_cis)
    if rng.random() < 0.7:
        values = {"location": ci_site(world, rng, world.store.get(ci, "company"))}
    else:
        status = world.store.get(ci, "operational_status")
        values = {"operational_status": rng.choice([s for s in ("1", "2", "6") if s != status])}
    return world.events.update(ci, values, by=rng.choice(vocab.ITIL_USERS))


def relationship_change(world: SimWorld, rng: random.Random) -> Event:
    """Add or remove a two-way account relationship or a contact relationship."""
    index = world.index
    roll = rng.random()
    if roll < 0.35 and index.partner_accounts:
        kind = rng.choice(("partner_of", "customer_of", "related"))
        customer = rng.choice(index.customer_accounts)
        other = rng.choice(index.customer_accounts if kind == "related" else index.partner_accounts)
        if other == customer:
            return None
        pair = (other, customer) if kind == "customer_of" else (customer, other)
        return relationship(world, rng, *pair, kind)
    if roll < 0.55:
        contact, company = rng.choice(index.contacts), rng.choice(index.customer_accounts)
        return contact_relationship(world, rng, contact, company)
    pool = index.account_relationships if roll < 0.85 else index.contact_relationships
    victim = pool.choice(rng)
    if victim is None:
        return None
    pool.discard(victim)
    return world.events.delete(victim, by=rng.choice(vocab.AGENTS))
