"""The simulated population: realistic shape, deterministic, every kind of record present."""

from __future__ import annotations

from collections import Counter

from bridgedev.simulate import SimWorld, populate, summary
from connectors.catalog import TABLES
from tests.simulate.contract import check_event


def _build(seed: int, size: str = "small") -> tuple[SimWorld, list[dict]]:
    world = SimWorld(seed)
    return world, list(populate(world, size))


def test_population_is_deterministic_and_contract_valid() -> None:
    world, events = _build(21)
    _, again = _build(21)
    assert events == again
    last_count: dict[str, int] = {}
    for event in events:
        check_event(event, last_count)
    assert {e["table"] for e in events} >= set(TABLES) - {"wm_task"}
    assert summary(world)["records"] == len(events)


def test_account_hierarchies_are_at_most_three_levels_deep() -> None:
    world, _ = _build(22)
    parents = world.index.account_parent
    depths = Counter()
    for account in world.index.customer_accounts:
        depth, current = 1, account
        while current in parents:
            current, depth = parents[current], depth + 1
        depths[depth] += 1
    assert set(depths) == {1, 2, 3}


def test_contacts_cover_every_role_combination_and_none() -> None:
    world, events = _build(23)
    roles = {e["record"]["roles"] for e in events if e["table"] == "customer_contact"}
    assert {"", "customer", "customer,customer_admin", "partner", "partner,partner_admin"} <= roles
    types = {e["record"]["relationship_type"] for e in events if e["table"] == "account_relationship"}
    assert types == {"partner_of", "customer_of", "related"}


def test_cases_of_every_kind() -> None:
    _, events = _build(24)
    cases = [e["record"] for e in events if e["table"] in ("sn_customerservice_case", "sn_order_case")]
    majors = {e["sys_id"] for e in events if e["record"].get("major_case_state") == "accepted"}
    assert majors
    assert any(c["parent"] and c["parent"]["value"] in majors for c in cases)
    assert any(c["major_case_state"] == "proposed" for c in cases)
    order_cases = [c for c in cases if c["sys_class_name"] == "sn_order_case"]
    assert order_cases and all(c["order"] and c["number"].startswith("ORDCS") for c in order_cases)
    assert any(e["table"] == "sn_order_case_line" for e in events)
    assert any(c["consumer"] and not c["account"] for c in cases)
    assert any(c["partner"] and c["partner_contact"] for c in cases)


def test_configuration_items_stand_at_sites_and_cases_name_them() -> None:
    world, events = _build(25)
    cis = {e["sys_id"]: e["record"] for e in events if e["table"] == "cmdb_ci"}
    assert cis and all(r["name"] and r["location"] and r["company"] for r in cis.values())
    assert all(e["source"] == "itsm" for e in events if e["table"] == "cmdb_ci")
    sites = set(world.index.site_of_account.values())
    at_site = [r for r in cis.values() if r["location"]["value"] in sites]
    assert 0 < len(at_site) < len(cis)  # most at their company's site, some elsewhere
    cases = [e["record"] for e in events if e["table"] in ("sn_customerservice_case", "sn_order_case")]
    named = [c for c in cases if c["cmdb_ci"]]
    assert named and all(c["cmdb_ci"]["value"] in cis for c in named)
    assert all(cis[c["cmdb_ci"]["value"]]["company"]["value"] == c["account"]["value"] for c in named)
