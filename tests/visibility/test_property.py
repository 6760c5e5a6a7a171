"""Random landscapes, events in random order with duplicates: the incremental index equals the
rebuilt one, and no user sees a work order the contract's table does not grant (0 leaks); nor
a case's related records, read by the same table on the case's own columns."""

from __future__ import annotations

from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from bridge.visibility import case_related_records, check, rebuild, visible_work_orders
from bridge.visibility.schema import INDEX_TABLES
from tests.visibility.harness import Event, Events, Store

ACCOUNTS = [f"{i:032x}" for i in range(1, 7)]  # the last two never get a record
CONTACTS = [f"{i:032x}" for i in range(101, 106)]
CONSUMERS = [f"{i:032x}" for i in range(201, 203)]
WORK_ORDERS = [f"{i:032x}" for i in range(301, 307)]
RELATIONSHIPS = [f"{i:032x}" for i in range(401, 405)]
CONTACT_LINKS = [f"{i:032x}" for i in range(501, 504)]
CASES = [f"{i:032x}" for i in range(601, 604)]  # the last one is an order case
INCIDENTS = [f"{i:032x}" for i in range(701, 704)]  # the last one never gets a record
PROBLEMS = [f"{i:032x}" for i in range(711, 713)]
CHANGES = [f"{i:032x}" for i in range(721, 724)]
REQUESTS = [f"{i:032x}" for i in range(731, 735)]
USERS = CONTACTS + CONSUMERS + ["f" * 32]  # plus one nobody knows
RELATED_FIELDS = (("incident", "incident"), ("problem", "problem"), ("change", "change_request"))
ROLES = ("customer", "customer_admin", "partner", "partner_admin")

maybe_account = st.none() | st.sampled_from(ACCOUNTS)
maybe_contact = st.none() | st.sampled_from(CONTACTS)
roles = st.sets(st.sampled_from(ROLES)).map(lambda chosen: ",".join(sorted(chosen)))


def versions(
    ev: Events, make, fields: st.SearchStrategy, table: str, deleted: st.SearchStrategy = st.booleans()
) -> st.SearchStrategy:
    """1–3 successive versions of one record, the last one possibly a delete."""

    def build(args: tuple[list[dict[str, Any]], bool]) -> list[Event]:
        states, deleted = args
        events = [make(**state) for state in states]
        return events + ([ev.delete(table, events[-1].sys_id)] if deleted else [])

    return st.tuples(st.lists(fields, min_size=1, max_size=3), deleted).map(build)


@st.composite
def landscapes(draw, dense: bool = False) -> list[Event]:
    """Records of every table the index keeps, 1–3 versions each, maybe deleted. ``dense``:
    fewer ids, each record there (until maybe deleted), so that cases are often visible and
    have several related records (random draws over the wide pools rarely give one)."""
    ev = Events()
    events: list[Event] = []
    some_accounts, some_contacts = (ACCOUNTS[:3], CONTACTS[:3]) if dense else (ACCOUNTS[:4], CONTACTS)

    def maybe(pool: list[str]) -> st.SearchStrategy:
        """A reference: empty, or one of ``pool`` (empty less often when dense)."""
        return st.sampled_from([None, *pool]) if dense else st.none() | st.sampled_from(pool)

    account = maybe([*some_accounts, ACCOUNTS[-1]]) if dense else maybe_account
    contact = maybe(some_contacts)

    def ids(pool: list[str]) -> list[str]:
        return draw(st.permutations(pool) if dense else st.lists(st.sampled_from(pool), unique=True))

    deleted = st.sampled_from((False, False, False, True)) if dense else st.booleans()

    def add(sys_id: str, make, table: str, **fields: st.SearchStrategy) -> None:
        events.extend(draw(versions(ev, lambda **f: make(sys_id, **f), st.fixed_dictionaries(fields), table, deleted)))

    for acc in ids(some_accounts):
        add(acc, ev.account, "customer_account", parent=account)
    for rel in draw(st.lists(st.sampled_from(RELATIONSHIPS), unique=True, max_size=2 if dense else None)):
        add(rel, ev.relationship, "account_relationship", a=account, b=account)
    for user in ids(some_contacts):
        add(user, ev.contact, "customer_contact", account=account, roles=roles)
    for consumer in ids(CONSUMERS):
        add(consumer, lambda sys_id: ev.consumer(sys_id), "csm_consumer")
    for link in draw(st.lists(st.sampled_from(CONTACT_LINKS), unique=True, max_size=2 if dense else None)):
        add(link, ev.contact_relationship, "sn_customerservice_contact_relationship", contact=contact, company=account)
    for wo in draw(st.lists(st.sampled_from(WORK_ORDERS), unique=True, max_size=2 if dense else None)):
        add(
            wo,
            lambda sys_id, **refs: ev.work_order(sys_id, f"WO{sys_id[-3:]}", **refs),
            "wm_order",
            account=account,
            partner=account,
            contact=contact,
            consumer=st.none() | st.sampled_from(CONSUMERS),
            partner_contact=contact,
            initiated_from=maybe(CASES),
        )
    for case in ids(CASES):
        table = "sn_order_case" if case == CASES[-1] else "sn_customerservice_case"
        add(
            case,
            lambda sys_id, table=table, **refs: ev.case(sys_id, f"CS{sys_id[-3:]}", table, **refs),
            table,
            account=account,
            partner=account,
            contact=contact,
            consumer=maybe(CONSUMERS),
            partner_contact=contact,
            incident=maybe(INCIDENTS),
            problem=maybe(PROBLEMS),
            change=maybe(CHANGES),
            caused_by=maybe(CHANGES),
        )
    for table, pool in (("incident", INCIDENTS[:-1]), ("problem", PROBLEMS), ("change_request", CHANGES)):
        for sys_id in ids(pool):
            add(
                sys_id,
                lambda sys_id, state, table=table: ev.itsm(table, sys_id, f"N{sys_id[-3:]}", state),
                table,
                state=st.sampled_from(("1", "2")),
            )
    for request in ids(REQUESTS):
        # Two numbers for four requests (equal numbers are ordered by sys_id); the first case
        # is the parent most often.
        add(
            request,
            lambda sys_id, number, parent: ev.itsm("sc_request", sys_id, number, "requested", parent),
            "sc_request",
            number=st.sampled_from(("REQ2", "REQ1")),
            parent=maybe([CASES[0], *CASES]),
        )
    return events


def value(record: dict[str, Any], field: str) -> str | None:
    ref = record.get(field)
    return ref["value"] if isinstance(ref, dict) else None


Live = dict[str, tuple[str, dict[str, Any]]]


def oracle(live: Live) -> dict[str, set[str]]:
    """The contract's table, read literally (walking up the hierarchy, unlike the index)."""
    sees = _reader(live)
    return {user: {wo for wo, (table, r) in live.items() if table == "wm_order" and sees(user, r)} for user in USERS}


def related_oracle(live: Live) -> dict[str, dict[str, list[str]]]:
    """user → case → its related records in the portal's order, for the cases the user may see
    by the same table read on the case's own columns (the work orders naming it count for nothing)."""
    sees = _reader(live)
    answers: dict[str, dict[str, list[str]]] = {}
    for user in USERS:
        answers[user] = {}
        for case, (table, r) in live.items():
            if table not in ("sn_customerservice_case", "sn_order_case") or not sees(user, r):
                continue
            named = [value(r, field) for field, _ in RELATED_FIELDS]
            known = [
                sys_id
                for sys_id, (_, target) in zip(named, RELATED_FIELDS, strict=True)
                if sys_id in live and live[sys_id][0] == target
            ]
            requests = sorted(
                (record["number"], sys_id)
                for sys_id, (kind, record) in live.items()
                if kind == "sc_request" and value(record, "parent") == case
            )
            answers[user][case] = [*known, *(sys_id for _, sys_id in requests)]
    return answers


def _reader(live: Live):
    """``sees(user, record)``: the contract's table for a work order, or a case, ``record``."""
    by_table: dict[str, dict[str, dict[str, Any]]] = {}
    for sys_id, (table, record) in live.items():
        by_table.setdefault(table, {})[sys_id] = record
    parents = {a: value(r, "parent") for a, r in by_table.get("customer_account", {}).items()}
    contacts = by_table.get("customer_contact", {})
    links = {
        (value(r, "contact"), value(r, "company"))
        for r in by_table.get("sn_customerservice_contact_relationship", {}).values()
    }
    relationships = [
        (value(r, "from_company"), value(r, "to_company")) for r in by_table.get("account_relationship", {}).values()
    ]

    def descends_from(account: str, root: str) -> bool:
        seen: set[str] = set()
        while account is not None and account not in seen:
            if account == root:
                return True
            seen.add(account)
            account = parents.get(account)
        return False

    def admin_account(user: str, account: str | None) -> bool:
        own = value(contacts[user], "account")
        return account is not None and ((own is not None and descends_from(account, own)) or (user, account) in links)

    def related(account: str | None) -> set[str]:
        if account is None:  # an empty account is related to nothing, even by an empty end
            return set()
        return {b for a, b in relationships if a == account and b} | {a for a, b in relationships if b == account and a}

    def sees(user: str, r: dict[str, Any]) -> bool:
        if user not in contacts and user not in by_table.get("csm_consumer", {}):
            return False
        held = set(contacts[user]["roles"].split(",")) if user in contacts else set()
        account, partner = value(r, "account"), value(r, "partner")
        return (
            user in (value(r, "contact"), value(r, "consumer"))
            or ("partner" in held and value(r, "partner_contact") == user)
            or ("customer_admin" in held and admin_account(user, account))
            or (
                "partner_admin" in held
                and (
                    admin_account(user, partner)
                    or admin_account(user, account)
                    or any(admin_account(user, other) for other in related(account))
                )
            )
        )

    return sees


async def snapshot(conn) -> dict[str, set[tuple]]:
    return {table.name: {tuple(row) for row in await conn.execute(select(table))} for table in INDEX_TABLES}


async def deliver_in_random_order(store: Store, events: list[Event], data) -> None:
    """All events, shuffled, some twice, in batches of random size, into an empty store."""
    order = data.draw(st.permutations(events))
    duplicates = data.draw(st.lists(st.sampled_from(events), max_size=5)) if events else []
    for event in duplicates:
        order.insert(data.draw(st.integers(0, len(order))), event)
    await store.reset()
    while order:
        size = data.draw(st.integers(1, 6))
        await store.deliver(*order[:size])
        order = order[size:]


async def assert_matches_oracle_and_rebuild(store: Store) -> dict[str, set[str]]:
    expected = oracle(store.live())
    listed = related_oracle(store.live())
    async with store.engine.begin() as conn:
        for user in USERS:
            page = await visible_work_orders(conn, user, limit=1000)
            assert {row["sys_id"] for row in page.rows} == expected[user], user
            for case in CASES:
                rows = await case_related_records(conn, user, case)
                related = None if rows is None else [row["sys_id"] for row in rows]
                assert related == listed[user].get(case), (user, case)
        assert await check(conn) == []
        incremental = await snapshot(conn)
        await rebuild(conn)
        assert await snapshot(conn) == incremental
    return expected


@settings(
    max_examples=250, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow]
)
@given(events=landscapes(), data=st.data())
async def test_any_order_any_duplicates_same_index_and_no_leaks(store: Store, events: list[Event], data) -> None:
    await deliver_in_random_order(store, events, data)
    await assert_matches_oracle_and_rebuild(store)


@settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow]
)
@given(events=landscapes(dense=True), data=st.data())
async def test_related_records_in_any_order_with_any_duplicates_and_no_leaks(
    store: Store, events: list[Event], data
) -> None:
    """Dense landscapes: most cases are visible to someone and have several related records."""
    await deliver_in_random_order(store, events, data)
    await assert_matches_oracle_and_rebuild(store)


async def test_empty_ends_relate_nothing(store: Store) -> None:
    """Found by the property test (seed 278240033968517575410656558619426346945): a relationship
    with an empty end does not relate a work order without an account to the other end."""
    ev = Events()
    boss, rel, wo = CONTACTS[0], RELATIONSHIPS[0], WORK_ORDERS[0]
    await store.deliver(
        ev.contact(boss, ACCOUNTS[0], roles="partner_admin"),
        ev.relationship(rel, None, ACCOUNTS[0]),
        ev.work_order(wo, "WO1", account=None, partner=ACCOUNTS[1]),
    )
    expected = await assert_matches_oracle_and_rebuild(store)
    assert expected[boss] == set()
