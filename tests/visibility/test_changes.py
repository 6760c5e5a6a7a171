"""The answer changes at once, and only where it must, when a link appears or goes away;
and it does not depend on the order events arrive in."""

from __future__ import annotations

import itertools

from sqlalchemy import delete

from bridge.visibility import check, rebuild
from bridge.visibility.schema import vis_user_scope
from tests.visibility.harness import Events, Store, new_id
from tests.visibility.test_rules import numbers_seen


async def test_deleted_account_relationship_revokes_the_partner_admins_grant(store: Store) -> None:
    ev, partner_acc, customer, boss, rel = Events(), new_id(), new_id(), new_id(), new_id()
    await store.deliver(
        ev.account(partner_acc),
        ev.account(customer),
        ev.contact(boss, partner_acc, roles="partner_admin"),
        ev.relationship(rel, customer, partner_acc),
        ev.work_order(new_id(), "WO1", account=customer),
    )
    assert await numbers_seen(store.engine, boss) == {"WO1"}
    await store.deliver(ev.delete("account_relationship", rel))
    assert await numbers_seen(store.engine, boss) == set()


async def test_relationship_moved_to_other_accounts(store: Store) -> None:
    ev, partner_acc, first, second, boss, rel = Events(), new_id(), new_id(), new_id(), new_id(), new_id()
    await store.deliver(
        ev.contact(boss, partner_acc, roles="partner_admin"),
        ev.relationship(rel, partner_acc, first),
        ev.work_order(new_id(), "WO-first", account=first),
        ev.work_order(new_id(), "WO-second", account=second),
    )
    assert await numbers_seen(store.engine, boss) == {"WO-first"}
    await store.deliver(ev.relationship(rel, second, partner_acc))
    assert await numbers_seen(store.engine, boss) == {"WO-second"}


async def test_contact_moved_to_another_account(store: Store) -> None:
    ev, old, new, admin, colleague = Events(), new_id(), new_id(), new_id(), new_id()
    await store.deliver(
        ev.contact(admin, old, roles="customer_admin"),
        ev.contact(colleague, old, roles="customer_admin"),
        ev.work_order(new_id(), "WO-old", account=old),
        ev.work_order(new_id(), "WO-new", account=new),
    )
    await store.deliver(ev.contact(admin, new, roles="customer_admin"))
    assert await numbers_seen(store.engine, admin) == {"WO-new"}
    assert await numbers_seen(store.engine, colleague) == {"WO-old"}  # only where it must


async def test_role_removed(store: Store) -> None:
    ev, acc, admin = Events(), new_id(), new_id()
    await store.deliver(
        ev.contact(admin, acc, roles="customer_admin,partner"),
        ev.work_order(new_id(), "WO1", account=acc),
        ev.work_order(new_id(), "WO2", partner_contact=admin),
    )
    assert await numbers_seen(store.engine, admin) == {"WO1", "WO2"}
    await store.deliver(ev.contact(admin, acc, roles="partner"))
    assert await numbers_seen(store.engine, admin) == {"WO2"}
    await store.deliver(ev.contact(admin, acc, roles="customer"))
    assert await numbers_seen(store.engine, admin) == set()


async def test_contact_relationship_deleted_or_repointed(store: Store) -> None:
    ev, home, acting, third, admin, link = Events(), new_id(), new_id(), new_id(), new_id(), new_id()
    await store.deliver(
        ev.contact(admin, home, roles="customer_admin"),
        ev.contact_relationship(link, admin, acting),
        ev.work_order(new_id(), "WO-acting", account=acting),
        ev.work_order(new_id(), "WO-third", account=third),
    )
    assert await numbers_seen(store.engine, admin) == {"WO-acting"}
    await store.deliver(ev.contact_relationship(link, admin, third))
    assert await numbers_seen(store.engine, admin) == {"WO-third"}
    await store.deliver(ev.delete("sn_customerservice_contact_relationship", link))
    assert await numbers_seen(store.engine, admin) == set()


async def test_account_moved_out_of_the_hierarchy_takes_its_subtree(store: Store) -> None:
    ev, top, mid, low, away, admin = Events(), new_id(), new_id(), new_id(), new_id(), new_id()
    await store.deliver(
        ev.account(top),
        ev.account(mid, parent=top),
        ev.account(low, parent=mid),
        ev.account(away),
        ev.contact(admin, top, roles="customer_admin"),
        ev.work_order(new_id(), "WO-low", account=low),
    )
    assert await numbers_seen(store.engine, admin) == {"WO-low"}
    await store.deliver(ev.account(mid, parent=away))
    assert await numbers_seen(store.engine, admin) == set()
    await store.deliver(ev.account(mid, parent=top))
    assert await numbers_seen(store.engine, admin) == {"WO-low"}
    await store.deliver(ev.delete("customer_account", mid))
    assert await numbers_seen(store.engine, admin) == set()


async def test_work_order_account_partner_or_contact_changed(store: Store) -> None:
    ev, acc_a, acc_b, admin_a, admin_b, alice, boss, wo = (new_id() for _ in range(8))
    ev = Events()
    await store.deliver(
        ev.contact(admin_a, acc_a, roles="customer_admin"),
        ev.contact(admin_b, acc_b, roles="customer_admin"),
        ev.contact(boss, acc_b, roles="partner_admin"),
        ev.contact(alice, acc_b),
        ev.work_order(wo, "WO1", account=acc_a),
    )
    assert (await numbers_seen(store.engine, admin_a), await numbers_seen(store.engine, admin_b)) == ({"WO1"}, set())
    await store.deliver(ev.work_order(wo, "WO1", account=acc_b))
    assert (await numbers_seen(store.engine, admin_a), await numbers_seen(store.engine, admin_b)) == (set(), {"WO1"})
    await store.deliver(ev.work_order(wo, "WO1", partner=acc_b, contact=alice))
    assert await numbers_seen(store.engine, boss) == {"WO1"}
    assert await numbers_seen(store.engine, alice) == {"WO1"}
    await store.deliver(ev.work_order(wo, "WO1"))
    assert await numbers_seen(store.engine, boss) == set()
    assert await numbers_seen(store.engine, alice) == set()
    await store.deliver(ev.delete("wm_order", wo))
    assert await numbers_seen(store.engine, admin_b) == set()


async def test_deleted_contact_sees_nothing(store: Store) -> None:
    ev, acc, alice = Events(), new_id(), new_id()
    await store.deliver(ev.contact(alice, acc, roles="customer_admin"), ev.work_order(new_id(), "WO1", contact=alice))
    await store.deliver(ev.delete("customer_contact", alice))
    assert await numbers_seen(store.engine, alice) == set()


async def test_arrival_order_does_not_matter(store: Store) -> None:
    """Work order before its account, contact before its account, relationship before either
    (a third of the 120 orders, spread evenly; the property test draws random ones)."""
    ev = Events()
    top, child, partner_acc, admin, boss = (new_id() for _ in range(5))
    events = [
        ev.work_order(new_id(), "WO1", account=child),
        ev.contact(admin, top, roles="customer_admin"),
        ev.relationship(new_id(), partner_acc, child),
        ev.contact(boss, partner_acc, roles="partner_admin"),
        ev.account(child, parent=top),
    ]
    for order in itertools.islice(itertools.permutations(events), 0, None, 3):
        await store.reset()
        for event in order:
            await store.deliver(event, event)  # a duplicate in the same batch is harmless
        assert await numbers_seen(store.engine, admin) == {"WO1"}, order
        assert await numbers_seen(store.engine, boss) == {"WO1"}, order


async def test_rebuild_repairs_and_check_reports_a_damaged_index(store: Store) -> None:
    ev, acc, admin = Events(), new_id(), new_id()
    await store.deliver(ev.contact(admin, acc, roles="customer_admin"), ev.work_order(new_id(), "WO1", account=acc))
    async with store.engine.begin() as conn:
        await conn.execute(delete(vis_user_scope).where(vis_user_scope.c.rule == "customer_admin"))
        differences = await check(conn)
        assert [(d.table, d.key, d.actual) for d in differences] == [
            ("vis_user_scope", (admin, "customer_admin", acc), None)
        ]
        await rebuild(conn)
        assert await check(conn) == []
    assert await numbers_seen(store.engine, admin) == {"WO1"}
