"""Set-oriented recomputation of the users' scopes (``vis_user_scope``).

``recompute`` replaces all scope rows of the given users in a few statements per chunk of
users, whatever their number. The users are bound as one list parameter (``id_list``), so every
statement is an index lookup for exactly those users (a join with a work table would leave the
planner guessing its size and scanning the users), and one prepared statement serves any
number of them.
"""

from __future__ import annotations

from collections.abc import Collection
from typing import Any

from sqlalchemy import Select, delete, literal, or_, select, union
from sqlalchemy.ext.asyncio import AsyncConnection

from bridge.store.plan import Execute, Plan, run_sqlalchemy
from bridge.store.sql import AnyCompoundSelect, Statement, chunks, id_list
from bridge.visibility import rules
from bridge.visibility.schema import vis_account_relationships as rel
from bridge.visibility.schema import vis_accounts as acc
from bridge.visibility.schema import vis_contact_relationships as crel
from bridge.visibility.schema import vis_user_scope as scope
from bridge.visibility.schema import vis_users as users

ROLE_FLAG = {rules.CUSTOMER_ADMIN: users.c.is_customer_admin, rules.PARTNER_ADMIN: users.c.is_partner_admin}
SCOPE_COLUMNS = ["user_id", "rule", "key_id"]


def recompute_plan(user_ids: Collection[str]) -> Plan[None]:
    """Replace the scope rows of ``user_ids`` with ones computed from the current tables."""
    for ids in chunks(sorted(user_ids)):
        for statement in _RECOMPUTE:
            yield Execute(statement, {"ids": ids})


async def recompute(conn: AsyncConnection, user_ids: Collection[str]) -> None:
    """``recompute_plan`` through a SQLAlchemy connection (the rebuild)."""
    await run_sqlalchemy(conn, recompute_plan(user_ids))


def _admin_accounts(rule: str, ids: Any) -> AnyCompoundSelect:
    """(user, rule, account) for the users ``ids`` holding ``rule``'s role: their account, its
    descendants at any depth, and their contact relationships' companies."""
    admins = (
        select(users.c.sys_id.label("user_id"), users.c.account)
        .where(users.c.sys_id.in_(ids), users.c.kind == "contact", ROLE_FLAG[rule])
        .cte(f"admins_{rule}")
    )
    tree = (
        select(admins.c.user_id, admins.c.account.label("account_id"))
        .where(admins.c.account.is_not(None))
        .cte(f"tree_{rule}", recursive=True)
    )
    # UNION (not UNION ALL) makes a cycle in the hierarchy terminate.
    tree = tree.union(select(tree.c.user_id, acc.c.sys_id).join(acc, acc.c.parent == tree.c.account_id))
    return union(
        select(tree.c.user_id, literal(rule), tree.c.account_id),
        select(admins.c.user_id, literal(rule), crel.c.company)
        .join(crel, crel.c.contact == admins.c.user_id)
        .where(crel.c.company.is_not(None)),
    )


def _related_accounts(ids: Any) -> AnyCompoundSelect:
    """Accounts related (either direction) to the admin accounts of the partner admins ``ids``."""
    admin_scope = (
        select(scope.c.user_id, scope.c.key_id)
        .where(scope.c.user_id.in_(ids), scope.c.rule == rules.PARTNER_ADMIN)
        .subquery("admin_scope")
    )
    ends = ((rel.c.from_company, rel.c.to_company), (rel.c.to_company, rel.c.from_company))
    return union(
        *(
            select(admin_scope.c.user_id, literal(rules.PARTNER_ADMIN_RELATED), other)
            .join(rel, near == admin_scope.c.key_id)
            .where(other.is_not(None))
            for near, other in ends
        )
    )


def _ids(dialect_name: str) -> Any:
    return id_list("ids", dialect_name)


def _admin_scope(rule: str) -> Statement:
    """The scope rows of admin rule ``rule`` for the users ``ids``."""
    return Statement(
        f"scope_{rule}", lambda d: scope.insert().from_select(SCOPE_COLUMNS, _admin_accounts(rule, _ids(d))), "ids"
    )


#: Declared once, compiled once per dialect; ``ids`` is the list of users. The order matters:
#: the related accounts read the admin rows.
_RECOMPUTE = (
    Statement("scope_delete", lambda d: delete(scope).where(scope.c.user_id.in_(_ids(d))), "ids"),
    Statement(
        "scope_self",
        lambda d: scope.insert().from_select(
            SCOPE_COLUMNS,
            select(users.c.sys_id, literal(rules.SELF), users.c.sys_id).where(users.c.sys_id.in_(_ids(d))),
        ),
        "ids",
    ),
    Statement(
        "scope_partner",
        lambda d: scope.insert().from_select(
            SCOPE_COLUMNS,
            select(users.c.sys_id, literal(rules.PARTNER), users.c.sys_id).where(
                users.c.sys_id.in_(_ids(d)), users.c.kind == "contact", users.c.is_partner
            ),
        ),
        "ids",
    ),
    *(_admin_scope(rule) for rule in rules.ADMIN_RULES),
    Statement("scope_related", lambda d: scope.insert().from_select(SCOPE_COLUMNS, _related_accounts(_ids(d))), "ids"),
)


def users_with_admin_keys(keys: Any, admin_rules: Collection[str] = rules.ADMIN_RULES) -> Select[str]:
    """SELECT of the users whose stored scope has one of ``keys`` under an admin rule."""
    return (
        select(scope.c.user_id)
        # OR of equalities, not IN: an IN over constants is not a statement prepared once
        .where(or_(*(scope.c.rule == rule for rule in admin_rules)), scope.c.key_id.in_(keys))
        .distinct()
    )


def admin_users_above(account_ids: Any) -> Select[str]:
    """SELECT of the admin users whose account is an ancestor of one of ``account_ids`` (now)."""
    ancestors = (
        select(acc.c.parent.label("account_id"))
        .where(acc.c.sys_id.in_(account_ids), acc.c.parent.is_not(None))
        .cte("ancestors", recursive=True)
    )
    ancestors = ancestors.union(
        select(acc.c.parent).join(ancestors, acc.c.sys_id == ancestors.c.account_id).where(acc.c.parent.is_not(None))
    )
    return (
        select(users.c.sys_id)
        .where(
            users.c.account.in_(select(ancestors.c.account_id)),
            or_(users.c.is_customer_admin, users.c.is_partner_admin),
        )
        .distinct()
    )
