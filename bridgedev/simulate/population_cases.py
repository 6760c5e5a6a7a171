"""Cases of every kind for the population, and the FSM/ITSM records that exist without a case.

Ordinary cases (business and consumer), order cases with their case lines, major cases with
children, and candidates proposed as major cases.
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from typing import Any

from bridgedev.simulate import vocab
from bridgedev.simulate.lifecycles import create_record
from bridgedev.simulate.world import SimWorld
from connectors.catalog import CASE_TABLE, ORDER_CASE_TABLE

OPEN_CASE_STATES = frozenset({"1", "10", "18"})
_CASE_STATES = ("1", "10", "18", "6", "3", "7")
_CASE_STATE_WEIGHTS = (15, 50, 10, 10, 10, 5)
_KINDS = ("ordinary", "consumer", "order", "major", "candidate")
_KIND_WEIGHTS = (78, 8, 7, 2, 5)


def case_values(world: SimWorld, rng: random.Random, *, consumer_case: bool = False) -> dict[str, str]:
    """Fields of a plausible new case: a business case, or a consumer's when asked or needed."""
    index, store = world.index, world.store
    account = contact = consumer = ""
    if consumer_case or not index.customer_accounts:
        consumer = rng.choice(index.consumers)
        location = store.get(consumer, "location")
    else:
        account = rng.choice(index.customer_accounts)
        contact = rng.choice(index.contacts_by_account[account]) if rng.random() < 0.92 else ""
        location = store.get(contact, "location") if contact else ""
    partner, partner_contact = _partner_for(world, rng, account)
    state = rng.choices(_CASE_STATES, _CASE_STATE_WEIGHTS)[0]
    assets = index.assets_by_account.get(account, [])
    cis = index.cmdb_cis_by_account.get(account, [])
    return {
        "state": state,
        "priority": rng.choice("12334444"),
        "impact": rng.choice("123"),
        "urgency": rng.choice("123"),
        "channel": rng.choice(vocab.CHANNELS),
        "account": account,
        "contact": contact,
        "consumer": consumer,
        "partner": partner,
        "partner_contact": partner_contact,
        "product": rng.choice(index.products),
        "asset": rng.choice(assets) if assets else "",
        "cmdb_ci": rng.choice(cis) if cis and rng.random() < 0.4 else "",
        "location": location,
        "category": rng.choice(vocab.CATEGORIES),
        "assignment_group": rng.choice(index.groups),
        "assigned_to": rng.choice(index.agents) if state != "1" else "",
        "short_description": rng.choice(vocab.CASE_PROBLEMS),
        "description": rng.choice(vocab.CASE_DETAILS),
        "resolution_code": "solution_provided" if state in ("6", "3") else "",
        "close_notes": "Fixed on site" if state in ("6", "3") else "",
    }


def insert_case(world: SimWorld, rng: random.Random, values: dict[str, str], table: str = CASE_TABLE) -> dict[str, Any]:
    """Create a case (or order case) and index it."""
    event = create_record(world, table, values, by=rng.choice(vocab.AGENTS))
    world.index.cases.append(event["sys_id"])
    if values.get("state") in OPEN_CASE_STATES:
        world.open_cases.add(event["sys_id"])
    return event


def build_cases(world: SimWorld, rng: random.Random, count: int) -> Iterator[dict[str, Any]]:
    target = len(world.index.cases) + count
    while len(world.index.cases) < target:
        kind = rng.choices(_KINDS, _KIND_WEIGHTS)[0]
        if kind == "order" and world.index.orders_by_account:
            yield from _order_case(world, rng)
        elif kind == "major":
            yield from _major_case(world, rng, max(1, min(5, target - len(world.index.cases) - 1)))
        elif kind == "candidate":
            yield insert_case(world, rng, {**case_values(world, rng), "state": "10", "major_case_state": "proposed"})
        else:
            yield insert_case(world, rng, case_values(world, rng, consumer_case=kind == "consumer"))


def _partner_for(world: SimWorld, rng: random.Random, account: str) -> tuple[str, str]:
    """A partner related to the account (or to an ancestor), with one of its contacts."""
    index = world.index
    current: str | None = account
    while current:
        partners = index.partners_of_account.get(current)
        if partners and rng.random() < 0.6:
            partner = rng.choice(partners)
            return partner, rng.choice(index.contacts_by_account[partner])
        current = index.account_parent.get(current)
    return "", ""


def _order_case(world: SimWorld, rng: random.Random) -> Iterator[dict[str, Any]]:
    """An order case for an account with orders (a few tries), then one case line per order line."""
    index = world.index
    for _ in range(8):
        account = rng.choice(index.customer_accounts)
        if index.orders_by_account.get(account):
            break
    else:
        yield insert_case(world, rng, case_values(world, rng))
        return
    order = rng.choice(index.orders_by_account[account])
    values = {
        **case_values(world, rng),
        "account": account,
        "order": order,
        "contact": world.store.get(order, "contact"),
    }
    if values["cmdb_ci"] not in index.cmdb_cis_by_account.get(account, ()):
        values["cmdb_ci"] = ""  # the CI picked for another account
    case = insert_case(world, rng, values, ORDER_CASE_TABLE)
    yield case
    for item in index.line_items_by_order[order]:
        line = world.ids.sys_id("order_case_line", case["sys_id"], item)
        yield world.events.insert(
            "sn_order_case_line",
            line,
            {
                "parent": case["sys_id"],
                "order_line_item": item,
                "state": rng.choice(("new", "work_in_progress", "awaiting_info", "resolved_accepted")),
            },
            by=rng.choice(vocab.AGENTS),
        )


def _major_case(world: SimWorld, rng: random.Random, children: int) -> Iterator[dict[str, Any]]:
    major = insert_case(
        world, rng, {**case_values(world, rng), "state": "10", "priority": "1", "major_case_state": "accepted"}
    )
    world.index.major_cases.append(major["sys_id"])
    yield major
    product = world.store.get(major["sys_id"], "product")
    for _ in range(rng.randint(1, children)):
        yield insert_case(
            world, rng, {**case_values(world, rng), "state": "10", "parent": major["sys_id"], "product": product}
        )


STANDALONE_TABLES = ("wm_order", "incident", "problem", "change_request", "sc_request")


def build_standalone_records(world: SimWorld, rng: random.Random, count: int) -> Iterator[dict[str, Any]]:
    """Work orders and ITSM records created directly in FSM/ITSM, not from a case."""
    for _ in range(count):
        yield standalone_record(world, rng, rng.choices(STANDALONE_TABLES, (30, 30, 10, 15, 15))[0])


def standalone_record(world: SimWorld, rng: random.Random, table: str) -> dict[str, Any]:
    """A preventive-maintenance work order, or an ITSM record raised in ITSM itself."""
    text = rng.choice(vocab.CASE_PROBLEMS)
    if table == "wm_order":
        account = rng.choice(world.index.customer_accounts)
        return create_record(
            world,
            table,
            {
                "account": account,
                "company": account,
                "priority": rng.choice("1234"),
                "short_description": f"Preventive maintenance: {text}",
            },
            by="dispatcher",
        )
    if table == "change_request":
        return create_record(
            world,
            table,
            {"type": rng.choice(("normal", "standard", "emergency")), "short_description": text},
            by=rng.choice(vocab.CHANGE_MANAGERS),
        )
    if table == "incident":
        return create_record(
            world,
            table,
            {
                "priority": rng.choice("1234"),
                "impact": rng.choice("123"),
                "urgency": rng.choice("123"),
                "short_description": text,
            },
            by=rng.choice(vocab.ITIL_USERS),
        )
    return create_record(world, table, {"short_description": text}, by=rng.choice(vocab.ITIL_USERS))
