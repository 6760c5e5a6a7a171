"""PostgreSQL's second wall: row-level security for the portal's database role.

The portal's transactions switch to ``portal_role`` (``SET LOCAL ROLE``) and name their user in
the transaction-local setting ``bridge.portal_user``. Under that role the index tables are
forced through policies that only let through the user's own scope rows, the work orders
those rows grant, and the tasks, accounts and cases of those work orders; the cases those rows
grant on the case's own columns, and the ITSM records related to those cases (never to a case
readable only through a work order); the other index tables are not readable at all. So a
query that forgets the user filter still returns nothing it should not. The tables' owner
(the role that runs ``install_rls``: the bridge's writer) keeps full access through an
explicit policy, since FORCE subjects the owner too.
"""

from __future__ import annotations

import re

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection

from bridge.visibility.rules import CASE_RECORD_FIELDS, REQUEST_TABLE, RULE_COLUMNS
from bridge.visibility.schema import (
    INDEX_TABLES,
    vis_accounts,
    vis_cases,
    vis_itsm_records,
    vis_tasks,
    vis_user_scope,
    vis_work_orders,
)

DEFAULT_PORTAL_ROLE = "bridge_portal"
USER_SETTING = "bridge.portal_user"
_ROLE_NAME = re.compile(r"[a-z_][a-z0-9_]{0,62}")
_CURRENT_USER = f"current_setting('{USER_SETTING}', true)"


def _granted(row: str) -> str:
    """True when one of the user's scope rows matches a column of ``row`` (a work order or a
    case: the rules match the same column names on both)."""
    matches = " OR ".join(f"(s.rule = '{rule}' AND s.key_id = {row}.{column})" for rule, column, _ in RULE_COLUMNS)
    return f"EXISTS (SELECT 1 FROM vis_user_scope s WHERE s.user_id = {_CURRENT_USER} AND ({matches}))"


def _related_to(case: str, record: str) -> str:
    """The ITSM record ``record`` is one of the case ``case``'s related records."""
    named = [
        f"({case}.{field} = {record}.sys_id AND {record}.table_name = '{table}')" for field, table in CASE_RECORD_FIELDS
    ]
    request = f"({case}.sys_id = {record}.parent_case AND {record}.table_name = '{REQUEST_TABLE}')"
    return " OR ".join([*named, request])


#: What the portal role may read of each table it can read at all.
PORTAL_POLICIES = {
    vis_user_scope.name: f"user_id = {_CURRENT_USER}",
    vis_work_orders.name: _granted("vis_work_orders"),
    vis_tasks.name: "EXISTS (SELECT 1 FROM vis_work_orders w WHERE w.sys_id = vis_tasks.parent)",
    vis_accounts.name: "EXISTS (SELECT 1 FROM vis_work_orders w WHERE w.account = vis_accounts.sys_id)",
    # Visible by its own columns (the related records), or named by a visible work order (the
    # work-order list shows its number).
    vis_cases.name: f"{_granted('vis_cases')} "
    "OR EXISTS (SELECT 1 FROM vis_work_orders w WHERE w.case_id = vis_cases.sys_id)",
    # Only the records of a case visible by its own columns: a case readable through a work
    # order alone does not open its related records.
    vis_itsm_records.name: f"EXISTS (SELECT 1 FROM vis_cases c WHERE ({_related_to('c', 'vis_itsm_records')}) "
    f"AND {_granted('c')})",
}


def _role(name: str) -> str:
    if not _ROLE_NAME.fullmatch(name):
        raise ValueError("portal role must be a lowercase SQL identifier")
    return name


RLS_LOCK_ID = 0x6272696467650002  # "bridge" + 2


async def install_rls(conn: AsyncConnection, portal_role: str = DEFAULT_PORTAL_ROLE) -> None:
    """Create the portal role if needed, grant it SELECT on the readable index tables, and
    force row-level security with the policies above (idempotent; PostgreSQL only)."""
    role = _role(portal_role)
    statements = [
        # Instances starting together would update the same catalog rows ("tuple concurrently
        # updated"): one installs at a time, until its transaction ends.
        f"SELECT pg_advisory_xact_lock({RLS_LOCK_ID})",
        f"DO $$ BEGIN IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = '{role}') "
        f"THEN CREATE ROLE {role} NOLOGIN NOINHERIT; END IF; END $$",
        # The writer must be a member to SET ROLE; a role made by someone else needs their GRANT.
        f"DO $$ BEGIN IF NOT pg_has_role(current_user, '{role}', 'MEMBER') "
        f"THEN GRANT {role} TO CURRENT_USER; END IF; END $$",
        f"GRANT USAGE ON SCHEMA {await _schema(conn)} TO {role}",
    ]
    for table in INDEX_TABLES:
        name = table.name
        statements += [
            f"REVOKE ALL ON {name} FROM {role}",
            f"ALTER TABLE {name} ENABLE ROW LEVEL SECURITY",
            f"ALTER TABLE {name} FORCE ROW LEVEL SECURITY",
            f"DROP POLICY IF EXISTS bridge_owner ON {name}",
            f"CREATE POLICY bridge_owner ON {name} TO CURRENT_USER USING (true) WITH CHECK (true)",
            f"DROP POLICY IF EXISTS portal_read ON {name}",
        ]
        if name in PORTAL_POLICIES:
            statements += [
                f"GRANT SELECT ON {name} TO {role}",
                f"CREATE POLICY portal_read ON {name} FOR SELECT TO {role} USING ({PORTAL_POLICIES[name]})",
            ]
    for statement in statements:
        await conn.execute(text(statement))


async def _schema(conn: AsyncConnection) -> str:
    return conn.dialect.identifier_preparer.quote((await conn.execute(text("SELECT current_schema()"))).scalar_one())


async def as_portal_user(conn: AsyncConnection, user_id: str, portal_role: str = DEFAULT_PORTAL_ROLE) -> None:
    """Run the rest of the current transaction as the portal role for ``user_id``
    (PostgreSQL; a no-op on SQLite, which has no roles)."""
    if conn.dialect.name != "postgresql":
        return
    await conn.execute(text(f"SET LOCAL ROLE {_role(portal_role)}"))
    # The policies' nested subplans inflate cost estimates past the JIT threshold; compiling
    # costs seconds while these index lookups take milliseconds.
    await conn.execute(text("SET LOCAL jit = off"))
    await conn.execute(text("SELECT set_config(:name, :user_id, true)"), {"name": USER_SETTING, "user_id": user_id})
