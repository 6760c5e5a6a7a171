"""Who sees which work order: each row of the contract's portal table, and each way a grant ends."""

from __future__ import annotations

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from bridge.visibility import Grant, check, visible_work_orders, who_sees
from tests.visibility.harness import Events, Store, new_id


async def numbers_seen(engine: AsyncEngine, user: str) -> set[str]:
    async with engine.connect() as conn:
        page = await visible_work_orders(conn, user, limit=1000)
        assert (await check(conn)) == []  # every scenario also leaves the index consistent
    return {row["number"] for row in page.rows}


class World:
    """A small customer landscape:

    top ─ mid ─ low        (hierarchy, depth 2 below ``top``)
    other                  (unrelated), elsewhere ─ (relationship) ─ top
    """

    def __init__(self) -> None:
        self.ev = Events()
        self.top, self.mid, self.low, self.other, self.elsewhere = (new_id() for _ in range(5))

    def accounts(self):
        return [
            self.ev.account(self.top, "Top"),
            self.ev.account(self.mid, "Mid", parent=self.top),
            self.ev.account(self.low, "Low", parent=self.mid),
            self.ev.account(self.other, "Other"),
            self.ev.account(self.elsewhere, "Elsewhere"),
        ]


@pytest.fixture
def world() -> World:
    return World()


async def test_any_contact_or_consumer_sees_work_orders_naming_them(store: Store, world: World) -> None:
    ev = world.ev
    alice, carl, stranger = new_id(), new_id(), new_id()
    await store.deliver(
        *world.accounts(),
        ev.contact(alice, world.top, roles=""),
        ev.consumer(carl),
        ev.work_order(new_id(), "WO1", account=world.top, contact=alice),
        ev.work_order(new_id(), "WO2", account=world.other, consumer=carl),
        ev.work_order(new_id(), "WO3", account=world.top),
        ev.work_order(new_id(), "WO4", contact=stranger),
    )
    assert await numbers_seen(store.engine, alice) == {"WO1"}
    assert await numbers_seen(store.engine, carl) == {"WO2"}
    assert await numbers_seen(store.engine, stranger) == set()  # not a known contact or consumer


async def test_customer_admin_sees_own_account_descendants_and_contact_relationships(
    store: Store, world: World
) -> None:
    ev = world.ev
    admin = new_id()
    await store.deliver(
        *world.accounts(),
        ev.contact(admin, world.mid, roles="customer,customer_admin"),
        ev.contact_relationship(new_id(), admin, world.other),
        ev.account(child_of_other := new_id(), parent=world.other),
        ev.work_order(new_id(), "WO-top", account=world.top),
        ev.work_order(new_id(), "WO-mid", account=world.mid),
        ev.work_order(new_id(), "WO-low", account=world.low),
        ev.work_order(new_id(), "WO-other", account=world.other),
        ev.work_order(new_id(), "WO-other-child", account=child_of_other),
        ev.work_order(new_id(), "WO-partner-mid", partner=world.mid),
    )
    assert await numbers_seen(store.engine, admin) == {"WO-mid", "WO-low", "WO-other"}


async def test_hierarchy_of_any_depth(store: Store, world: World) -> None:
    ev = world.ev
    admin, chain = new_id(), [new_id() for _ in range(6)]
    await store.deliver(
        ev.contact(admin, chain[0], roles="customer_admin"),
        *(ev.account(chain[i], parent=chain[i - 1] if i else None) for i in range(6)),
        ev.work_order(new_id(), "WO-deep", account=chain[5]),
    )
    assert await numbers_seen(store.engine, admin) == {"WO-deep"}


async def test_partner_sees_work_orders_where_they_are_partner_contact(store: Store, world: World) -> None:
    ev = world.ev
    pat, not_partner = new_id(), new_id()
    await store.deliver(
        *world.accounts(),
        ev.contact(pat, world.elsewhere, roles="partner"),
        ev.contact(not_partner, world.elsewhere, roles="customer"),
        ev.work_order(new_id(), "WO-pat", account=world.top, partner_contact=pat),
        ev.work_order(new_id(), "WO-np", account=world.top, partner_contact=not_partner),
        ev.work_order(new_id(), "WO-elsewhere", partner=world.elsewhere),
    )
    assert await numbers_seen(store.engine, pat) == {"WO-pat"}
    assert await numbers_seen(store.engine, not_partner) == set()  # a role not held grants nothing


async def test_partner_admin_sees_partner_or_account_in_scope_and_related_accounts(store: Store, world: World) -> None:
    ev = world.ev
    boss, cust_a, cust_b, far = new_id(), new_id(), new_id(), new_id()
    await store.deliver(
        *world.accounts(),
        ev.account(cust_a),
        ev.account(cust_b),
        ev.account(far),
        ev.contact(boss, world.elsewhere, roles="partner_admin"),
        ev.relationship(new_id(), world.elsewhere, cust_a),  # elsewhere → cust_a
        ev.relationship(new_id(), cust_b, world.elsewhere),  # cust_b → elsewhere: two-way
        ev.relationship(new_id(), cust_a, far),  # two hops away: not granted
        ev.work_order(new_id(), "WO-partner", account=world.other, partner=world.elsewhere),
        ev.work_order(new_id(), "WO-own", account=world.elsewhere),
        ev.work_order(new_id(), "WO-a", account=cust_a),
        ev.work_order(new_id(), "WO-b", account=cust_b),
        ev.work_order(new_id(), "WO-far", account=far),
        ev.work_order(new_id(), "WO-related-partner", account=world.other, partner=cust_a),
    )
    assert await numbers_seen(store.engine, boss) == {"WO-partner", "WO-own", "WO-a", "WO-b"}


async def test_partner_admin_scope_includes_descendants_and_contact_relationships(store: Store, world: World) -> None:
    ev = world.ev
    boss, related_to_low, related_to_other = new_id(), new_id(), new_id()
    await store.deliver(
        *world.accounts(),
        ev.contact(boss, world.mid, roles="partner_admin"),
        ev.contact_relationship(new_id(), boss, world.other),
        ev.relationship(new_id(), related_to_low, world.low),
        ev.relationship(new_id(), world.other, related_to_other),
        ev.work_order(new_id(), "WO-low-partner", account=world.elsewhere, partner=world.low),
        ev.work_order(new_id(), "WO-rel-low", account=related_to_low),
        ev.work_order(new_id(), "WO-rel-other", account=related_to_other),
        ev.work_order(new_id(), "WO-top", account=world.top),
    )
    assert await numbers_seen(store.engine, boss) == {"WO-low-partner", "WO-rel-low", "WO-rel-other"}


async def test_several_roles_see_the_union(store: Store, world: World) -> None:
    ev = world.ev
    multi = new_id()
    await store.deliver(
        *world.accounts(),
        ev.contact(multi, world.top, roles="customer, customer_admin ,partner"),
        ev.work_order(new_id(), "WO-admin", account=world.low),
        ev.work_order(new_id(), "WO-partner", account=world.other, partner_contact=multi),
        ev.work_order(new_id(), "WO-contact", account=world.other, contact=multi),
        ev.work_order(new_id(), "WO-none", account=world.other, partner=world.top),
    )
    assert await numbers_seen(store.engine, multi) == {"WO-admin", "WO-partner", "WO-contact"}


async def test_contact_without_roles_sees_only_work_orders_naming_them(store: Store, world: World) -> None:
    ev = world.ev
    nobody = new_id()
    await store.deliver(
        *world.accounts(),
        ev.contact(nobody, world.top, roles=""),
        ev.work_order(new_id(), "WO-account", account=world.top),
        ev.work_order(new_id(), "WO-partner", partner=world.top, partner_contact=nobody),
    )
    assert await numbers_seen(store.engine, nobody) == set()


async def test_who_sees_names_users_accounts_and_rules(store: Store, world: World) -> None:
    ev = world.ev
    admin, boss, alice, wo = new_id(), new_id(), new_id(), new_id()
    await store.deliver(
        *world.accounts(),
        ev.contact(admin, world.top, roles="customer_admin"),
        ev.contact(boss, world.elsewhere, roles="partner_admin"),
        ev.contact(alice, world.other, roles="customer"),
        ev.relationship(new_id(), world.elsewhere, world.low),
        ev.work_order(wo, "WO1", account=world.low, partner=world.elsewhere, contact=alice),
    )
    async with store.engine.connect() as conn:
        grants = await who_sees(conn, wo)
    assert set(grants) == {
        Grant(admin, world.low, "customer_admin"),
        Grant(boss, world.elsewhere, "partner_admin:partner"),
        Grant(boss, world.low, "partner_admin:related_account"),
        Grant(alice, None, "contact"),
    }
