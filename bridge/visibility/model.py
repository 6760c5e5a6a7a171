"""The index computed in plain Python from records: what ``check`` compares the tables with.

Deliberately a second implementation of ``scopes`` (graph walks instead of recursive SQL), so
that a mistake in one shows up as a difference rather than agreeing with itself.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping
from typing import Any

from sqlalchemy import RowMapping, Table

from bridge.visibility import rules
from bridge.visibility.records import INDEX_TABLE_OF, index_row
from bridge.visibility.schema import INDEX_TABLES, vis_user_scope

Row = tuple[Any, ...]


def row_tuple(table: Table, row: Mapping[str, Any] | RowMapping) -> Row:
    """``row`` (a computed row, or one read from ``table``) as a tuple in ``table``'s column order."""
    return tuple(row[column.name] for column in table.columns)


def expected_index(records: Iterable[tuple[str, str, Mapping[str, Any]]]) -> dict[str, set[Row]]:
    """Every index table's rows for these live records ``(table, sys_id, data)``."""
    tables: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for table_name, sys_id, data in records:
        if table_name in INDEX_TABLE_OF:
            tables[INDEX_TABLE_OF[table_name].name].append(index_row(table_name, sys_id, data))
    expected = {
        table.name: {row_tuple(table, row) for row in tables.get(table.name, ())}
        for table in INDEX_TABLES
        if table is not vis_user_scope
    }
    expected[vis_user_scope.name] = _scope_rows(tables)
    return expected


def _scope_rows(tables: Mapping[str, list[dict[str, Any]]]) -> set[Row]:
    children: dict[str, list[str]] = defaultdict(list)
    for account in tables.get("vis_accounts", ()):
        if account["parent"]:
            children[account["parent"]].append(account["sys_id"])
    related: dict[str, set[str]] = defaultdict(set)
    for relationship in tables.get("vis_account_relationships", ()):
        ends = relationship["from_company"], relationship["to_company"]
        if None not in ends:
            related[ends[0]].add(ends[1])
            related[ends[1]].add(ends[0])
    acts_for: dict[str, set[str]] = defaultdict(set)
    for link in tables.get("vis_contact_relationships", ()):
        if link["contact"] and link["company"]:
            acts_for[link["contact"]].add(link["company"])

    rows: set[Row] = set()
    for user in tables.get("vis_users", ()):
        uid = user["sys_id"]
        rows.add((uid, rules.SELF, uid))
        if user["kind"] != "contact":
            continue
        if user["is_partner"]:
            rows.add((uid, rules.PARTNER, uid))
        if not (user["is_customer_admin"] or user["is_partner_admin"]):
            continue
        admin_accounts = _subtree(user["account"], children) | acts_for.get(uid, set())
        for flag, rule in (("is_customer_admin", rules.CUSTOMER_ADMIN), ("is_partner_admin", rules.PARTNER_ADMIN)):
            if user[flag]:
                rows.update((uid, rule, account) for account in admin_accounts)
        if user["is_partner_admin"]:
            rows.update(
                (uid, rules.PARTNER_ADMIN_RELATED, other) for account in admin_accounts for other in related[account]
            )
    return rows


def _subtree(root: str | None, children: Mapping[str, list[str]]) -> set[str]:
    if root is None:
        return set()
    seen, todo = {root}, [root]
    while todo:
        for child in children.get(todo.pop(), ()):
            if child not in seen:
                seen.add(child)
                todo.append(child)
    return seen
