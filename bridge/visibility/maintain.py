"""Incremental maintenance of the index, run inside the delivery pipeline's batch transaction.

Per batch, with a fixed number of set-oriented statements per kind of change:

1. find the users whose scope depends on the OLD state of what changed (the stored scope
   tells who had a changed account among its admin accounts, or a changed relationship's end);
2. replace the changed records' rows in the normalised tables;
3. find the users whose scope depends on the NEW state (changed users and contact
   relationships, admin users whose account is now an ancestor of a changed account);
4. recompute those users' scopes (``scopes.recompute``).

Work orders, tasks and cases need no grant maintenance: the portal joins them to the scopes
at query time, so a work order's new account, partner or contact counts at once. The result
depends only on the records' latest states, so any order of events and any duplicate give
the same index (the pipeline hands us only changes that are newer than what it stored).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from sqlalchemy import Select, Table, select, union
from sqlalchemy.ext.asyncio import AsyncConnection

from bridge.store.changes import RecordChange
from bridge.store.plan import Fetch, Plan, run_sqlalchemy
from bridge.store.sql import Statement, chunks, id_list
from bridge.visibility import rules, scopes
from bridge.visibility.records import INDEX_TABLE_OF, USER_TABLES, index_row
from bridge.visibility.schema import vis_account_relationships as rel
from bridge.visibility.schema import vis_contact_relationships as crel
from bridge.visibility.sql import delete_by_ids, upsert

#: The tables whose records decide scopes (the others are joined at query time).
SCOPE_TABLES = frozenset(
    {"customer_account", "account_relationship", "sn_customerservice_contact_relationship", *USER_TABLES}
)
ByTable = dict[str, list[RecordChange]]


def maintenance_plan(changes: Sequence[RecordChange]) -> Plan[None]:
    """Bring the index up to date with a batch's changes (run after the batch's records are
    written, in the same transaction). Changes to other tables are ignored."""
    latest: dict[tuple[str, str], RecordChange] = {}
    first: dict[tuple[str, str], RecordChange] = {}
    for change in changes:
        if change.table in INDEX_TABLE_OF:
            key = (change.table, change.sys_id)
            first.setdefault(key, change)
            latest[key] = change  # the last change of a record wins
    by_table: ByTable = defaultdict(list)
    for key, change in latest.items():
        if not _moves_the_index(first[key].before, change):
            continue  # most updates change nothing the index keeps (a priority, a state…)
        by_table[change.table].append(change)

    if by_table.keys().isdisjoint(SCOPE_TABLES):
        yield from _replace_rows(by_table.items())  # work orders, tasks, cases: no grant changes
        return
    affected = yield from _affected_by_old_state(by_table)
    yield from _replace_rows(by_table.items())
    affected |= yield from _affected_by_new_state(by_table)
    yield from scopes.recompute_plan(affected)


async def apply_changes(conn: AsyncConnection, changes: Sequence[RecordChange]) -> None:
    """``maintenance_plan`` through a SQLAlchemy connection, in its transaction (tools, tests)."""
    await run_sqlalchemy(conn, maintenance_plan(changes))


def _ids_of(dialect_name: str) -> Select[Any]:
    return id_list("ids", dialect_name)


# Declared once, compiled once per dialect; ``ids`` is the list parameter.
_ADMINS_OF_ACCOUNTS = Statement("admins_of_accounts", lambda d: scopes.users_with_admin_keys(_ids_of(d)), "ids")
_PARTNER_ADMINS_OF_ACCOUNTS = Statement(
    "partner_admins_of_accounts", lambda d: scopes.users_with_admin_keys(_ids_of(d), (rules.PARTNER_ADMIN,)), "ids"
)
_PARTNER_ADMINS_OF_OLD_ENDS = Statement(
    "partner_admins_of_old_ends",
    lambda d: scopes.users_with_admin_keys(
        union(
            select(rel.c.from_company).where(rel.c.sys_id.in_(_ids_of(d))),
            select(rel.c.to_company).where(rel.c.sys_id.in_(_ids_of(d))),
        ),
        (rules.PARTNER_ADMIN,),
    ),
    "ids",
)
_CONTACTS_OF_OLD_LINKS = Statement(
    "contacts_of_old_links", lambda d: select(crel.c.contact).where(crel.c.sys_id.in_(_ids_of(d))), "ids"
)
_ADMINS_ABOVE = Statement("admins_above", lambda d: scopes.admin_users_above(_ids_of(d)), "ids")


def _affected_by_old_state(by_table: ByTable) -> Plan[set[str]]:
    affected: set[str] = set()
    for batch in chunks(_ids(by_table, "customer_account")):
        affected |= yield from _user_ids(_ADMINS_OF_ACCOUNTS, batch)
    for batch in chunks(_ids(by_table, "account_relationship")):
        affected |= yield from _user_ids(_PARTNER_ADMINS_OF_OLD_ENDS, batch)
    # A relationship's new ends: partner admins' admin accounts do not change with it.
    new_ends = {
        end
        for change in _live(by_table, "account_relationship")
        for end in _values(change, "from_company", "to_company")
    }
    for batch in chunks(sorted(new_ends)):
        affected |= yield from _user_ids(_PARTNER_ADMINS_OF_ACCOUNTS, batch)
    for batch in chunks(_ids(by_table, "sn_customerservice_contact_relationship")):
        affected |= yield from _user_ids(_CONTACTS_OF_OLD_LINKS, batch)
    return affected


def _replace_rows(groups: Iterable[tuple[str, list[RecordChange]]]) -> Plan[None]:
    for table_name, changes in groups:
        table: Table = INDEX_TABLE_OF[table_name]
        yield from delete_by_ids(table, [c.sys_id for c in changes if c.after is None])
        yield from upsert(table, [index_row(table_name, c.sys_id, c.after) for c in changes if c.after is not None])


def _affected_by_new_state(by_table: ByTable) -> Plan[set[str]]:
    affected = {sys_id for table in USER_TABLES for sys_id in _ids(by_table, table)}
    affected |= {
        c for change in _live(by_table, "sn_customerservice_contact_relationship") for c in _values(change, "contact")
    }
    for batch in chunks(_ids(by_table, "customer_account")):
        affected |= yield from _user_ids(_ADMINS_ABOVE, batch)
    return affected


def _user_ids(query: Statement, ids: list[str]) -> Plan[set[str]]:
    rows = yield Fetch(query, {"ids": ids})
    return {user_id for (user_id,) in rows if user_id is not None}


def _moves_the_index(before: Mapping[str, Any] | None, change: RecordChange) -> bool:
    """Whether the index row of ``change``'s record after the batch differs from the one before
    it (the index was kept up to date with the ``before`` state, so an equal row is there; a
    change to ``index_row`` therefore comes with a migration that rewrites the rows, as 0006
    does, or a ``bridge visibility rebuild``)."""
    if before is None or change.after is None:
        return True
    return index_row(change.table, change.sys_id, before) != index_row(change.table, change.sys_id, change.after)


def _ids(by_table: ByTable, table: str) -> list[str]:
    return sorted(change.sys_id for change in by_table.get(table, ()))


def _live(by_table: ByTable, table: str) -> list[RecordChange]:
    return [change for change in by_table.get(table, ()) if change.after is not None]


def _values(change: RecordChange, *fields: str) -> list[str]:
    assert change.after is not None
    row = index_row(change.table, change.sys_id, change.after)
    return [row[field] for field in fields if row[field] is not None]
