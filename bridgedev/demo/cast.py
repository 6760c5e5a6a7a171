"""Who plays in the story, picked from the simulated population (deterministic for a seed):
a customer account with its customer admin, a partner with a partner contact, a second account."""

from __future__ import annotations

import random
from dataclasses import dataclass
from typing import Any

from bridgedev.simulate import SimWorld
from bridgedev.simulate.population_cases import case_values, insert_case


@dataclass(frozen=True)
class Cast:
    account: str  # the customer account the story's cases belong to
    admin: str  # its primary contact, a customer_admin
    partner: str  # a partner account
    partner_contact: str  # one of its contacts (role partner)
    other_account: str  # another customer, whose work order the admin must not see
    other_contact: str

    def name(self, world: SimWorld, sys_id: str) -> str:
        return world.store.label(sys_id)


def pick_cast(world: SimWorld) -> Cast:
    index = world.index
    account = index.customer_accounts[0]
    admin = index.contacts_by_account[account][0]
    other = next(a for a in index.customer_accounts[1:] if _unrelated(world, account, a))
    partner = index.partner_accounts[0]
    return Cast(
        account, admin, partner, index.contacts_by_account[partner][0], other, index.contacts_by_account[other][0]
    )


def _unrelated(world: SimWorld, account: str, candidate: str) -> bool:
    """``candidate`` is outside ``account``'s family, so its customer admin does not see its work
    orders through the hierarchy (the story's fixed seed gives the admin no contact relationship)."""
    parents = world.index.account_parent

    def family(start: str) -> set[str]:
        seen, current = set(), start
        while current:
            seen.add(current)
            current = parents.get(current, "")
        return seen

    return account not in family(candidate) and candidate not in family(account)


def new_case(
    world: SimWorld,
    rng: random.Random,
    account: str,
    contact: str,
    *,
    partner: str = "",
    partner_contact: str = "",
    **fields: str,
) -> dict[str, Any]:
    """An open case for ``account`` (insert event), with the given fields on top of plausible ones."""
    values = {
        **case_values(world, rng),
        "state": "10",
        "account": account,
        "contact": contact,
        "consumer": "",
        "partner": partner,
        "partner_contact": partner_contact,
        "parent": "",
        "resolution_code": "",
        "close_notes": "",
        **fields,
    }
    values["location"] = world.store.get(contact, "location")
    return insert_case(world, rng, values)
