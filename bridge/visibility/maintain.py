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
from collections.abc import Iterable, Sequence

from sqlalchemy import Select, Table, select, union
from sqlalchemy.ext.asyncio import AsyncConnection

from bridge.store.changes import RecordChange
from bridge.visibility import rules, scopes
from bridge.visibility.records import INDEX_TABLE_OF, USER_TABLES, index_row
from bridge.visibility.schema import vis_account_relationships as rel
from bridge.visibility.schema import vis_contact_relationships as crel
from bridge.store.sql import IDS
from bridge.visibility.sql import chunks, delete_by_ids, upsert_rows

#: The tables whose records decide scopes (the others are joined at query time).
SCOPE_TABLES = frozenset(
    {"customer_account", "account_relationship", "sn_customerservice_contact_relationship", *USER_TABLES}
)
ByTable = dict[str, list[RecordChange]]


async def apply_changes(conn: AsyncConnection, changes: Sequence[RecordChange]) -> None:
    """Bring the index up to date with a batch's changes (call after the batch's records are
    written, in the same transaction). Changes to other tables are ignored."""
    latest: dict[tuple[str, str], RecordChange] = {}
    for change in changes:
        if change.table in INDEX_TABLE_OF:
            latest[(change.table, change.sys_id)] = change  # the last change of a record wins
    by_table: ByTable = defaultdict(list)
    for change in latest.values():
        by_table[change.table].append(change)

    if by_table.keys().isdisjoint(SCOPE_TABLES):
        await _replace_rows(conn, by_table.items())  # work orders, tasks, cases: no grant changes
        return
    affected = await _affected_by_old_state(conn, by_table)
    await _replace_rows(conn, by_table.items())
    affected |= await _affected_by_new_state(conn, by_table)
    await scopes.recompute(conn, affected)


# Built once, like the pipeline's statements: building one per batch costs more than running it.
_ADMINS_OF_ACCOUNTS = scopes.users_with_admin_keys(IDS)
_PARTNER_ADMINS_OF_ACCOUNTS = scopes.users_with_admin_keys(IDS, (rules.PARTNER_ADMIN,))
_PARTNER_ADMINS_OF_OLD_ENDS = scopes.users_with_admin_keys(
    union(select(rel.c.from_company).where(rel.c.sys_id.in_(IDS)),
          select(rel.c.to_company).where(rel.c.sys_id.in_(IDS))),
    (rules.PARTNER_ADMIN,))
_CONTACTS_OF_OLD_LINKS = select(crel.c.contact).where(crel.c.sys_id.in_(IDS))
_ADMINS_ABOVE = scopes.admin_users_above(IDS)


async def _affected_by_old_state(conn: AsyncConnection, by_table: ByTable) -> set[str]:
    affected: set[str] = set()
    for batch in chunks(_ids(by_table, "customer_account")):
        affected |= await _user_ids(conn, _ADMINS_OF_ACCOUNTS, batch)
    for batch in chunks(_ids(by_table, "account_relationship")):
        affected |= await _user_ids(conn, _PARTNER_ADMINS_OF_OLD_ENDS, batch)
    # A relationship's new ends: partner admins' admin accounts do not change with it.
    new_ends = {
        end for change in _live(by_table, "account_relationship") for end in _values(change, "from_company", "to_company")
    }
    for batch in chunks(sorted(new_ends)):
        affected |= await _user_ids(conn, _PARTNER_ADMINS_OF_ACCOUNTS, batch)
    for batch in chunks(_ids(by_table, "sn_customerservice_contact_relationship")):
        affected |= await _user_ids(conn, _CONTACTS_OF_OLD_LINKS, batch)
    return affected


async def _replace_rows(conn: AsyncConnection, groups: Iterable[tuple[str, list[RecordChange]]]) -> None:
    for table_name, changes in groups:
        table: Table = INDEX_TABLE_OF[table_name]
        await delete_by_ids(conn, table, [c.sys_id for c in changes if c.after is None])
        await upsert_rows(conn, table, [index_row(table_name, c.sys_id, c.after)
                                        for c in changes if c.after is not None])


async def _affected_by_new_state(conn: AsyncConnection, by_table: ByTable) -> set[str]:
    affected = {sys_id for table in USER_TABLES for sys_id in _ids(by_table, table)}
    affected |= {c for change in _live(by_table, "sn_customerservice_contact_relationship") for c in _values(change, "contact")}
    for batch in chunks(_ids(by_table, "customer_account")):
        affected |= await _user_ids(conn, _ADMINS_ABOVE, batch)
    return affected


async def _user_ids(conn: AsyncConnection, query: Select, ids: list[str]) -> set[str]:
    return {user_id for user_id in await conn.scalars(query, {"ids": ids}) if user_id is not None}


def _ids(by_table: ByTable, table: str) -> list[str]:
    return sorted(change.sys_id for change in by_table.get(table, ()))


def _live(by_table: ByTable, table: str) -> list[RecordChange]:
    return [change for change in by_table.get(table, ()) if change.after is not None]


def _values(change: RecordChange, *fields: str) -> list[str]:
    assert change.after is not None
    row = index_row(change.table, change.sys_id, change.after)
    return [row[field] for field in fields if row[field] is not None]
