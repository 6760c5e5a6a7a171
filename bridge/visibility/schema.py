"""The visibility index's tables, declared on the store's one ``metadata``.

Normalised copies of the records that decide visibility (accounts, account relationships,
users, contact relationships, cases, work orders, tasks), of what the portal shows of them
(the ITSM records related to cases), and the materialised grant table ``vis_user_scope``: one
row per (user, rule, key) where ``key`` is the sys_id a work order's, or a case's, column must
equal for the rule to grant it (see ``bridge.visibility.rules``).
All references are bare sys_ids; ``NULL`` when empty.
"""

from __future__ import annotations

from sqlalchemy import Boolean, Column, Index, String, Table, Text

from bridge.store.metadata import SYS_ID, metadata

vis_accounts = Table(
    "vis_accounts",
    metadata,
    Column("sys_id", SYS_ID, primary_key=True),
    Column("name", Text, nullable=False, default=""),
    Column("parent", SYS_ID, nullable=True, index=True),
)

vis_account_relationships = Table(
    "vis_account_relationships",
    metadata,
    Column("sys_id", SYS_ID, primary_key=True),
    Column("from_company", SYS_ID, nullable=True, index=True),
    Column("to_company", SYS_ID, nullable=True, index=True),
)

#: Portal users: customer contacts (with their account and roles) and consumers (no roles).
vis_users = Table(
    "vis_users",
    metadata,
    Column("sys_id", SYS_ID, primary_key=True),
    Column("kind", String(8), nullable=False),  # "contact" | "consumer"
    Column("account", SYS_ID, nullable=True, index=True),
    Column("is_customer_admin", Boolean, nullable=False, default=False),
    Column("is_partner", Boolean, nullable=False, default=False),
    Column("is_partner_admin", Boolean, nullable=False, default=False),
)

vis_contact_relationships = Table(
    "vis_contact_relationships",
    metadata,
    Column("sys_id", SYS_ID, primary_key=True),
    Column("contact", SYS_ID, nullable=True, index=True),
    Column("company", SYS_ID, nullable=True, index=True),
)

#: Cases: the number the work-order list shows, the case's own columns the rules match on
#: (the portal's related records of a case are visible by the work-order rules read on the
#: case), and the ITSM records it names (indexed: the ITSM records' RLS policy looks them up).
vis_cases = Table(
    "vis_cases",
    metadata,
    Column("sys_id", SYS_ID, primary_key=True),
    Column("number", Text, nullable=False, default=""),
    Column("account", SYS_ID, nullable=True),
    Column("partner", SYS_ID, nullable=True),
    Column("contact", SYS_ID, nullable=True),
    Column("consumer", SYS_ID, nullable=True),
    Column("partner_contact", SYS_ID, nullable=True),
    Column("incident", SYS_ID, nullable=True, index=True),
    Column("problem", SYS_ID, nullable=True, index=True),
    Column("change", SYS_ID, nullable=True, index=True),
)

#: ITSM records (incident, problem, change_request, sc_request) as the portal's "Related
#: Records" widget shows them; ``state`` is a request's ``request_state``, ``parent_case`` a
#: request's ``parent`` (NULL for the other tables, which name no case).
vis_itsm_records = Table(
    "vis_itsm_records",
    metadata,
    Column("sys_id", SYS_ID, primary_key=True),
    Column("table_name", String(32), nullable=False),
    Column("number", Text, nullable=False, default=""),
    Column("state", Text, nullable=False, default=""),
    Column("short_description", Text, nullable=False, default=""),
    Column("parent_case", SYS_ID, nullable=True, index=True),
)

#: Work-order summaries: what the portal shows, plus the columns the rules match on.
#: ``case_label``/``account_label`` are the references' display values, shown while the
#: case or account record itself is unknown.
vis_work_orders = Table(
    "vis_work_orders",
    metadata,
    Column("sys_id", SYS_ID, primary_key=True),
    Column("number", Text, nullable=False, default=""),
    Column("state", Text, nullable=False, default=""),
    Column("priority", Text, nullable=False, default=""),
    Column("short_description", Text, nullable=False, default=""),
    Column("case_id", SYS_ID, nullable=True, index=True),  # the cases' RLS policy looks it up
    Column("case_label", Text, nullable=False, default=""),
    Column("account", SYS_ID, nullable=True, index=True),
    Column("account_label", Text, nullable=False, default=""),
    Column("partner", SYS_ID, nullable=True, index=True),
    Column("contact", SYS_ID, nullable=True, index=True),
    Column("consumer", SYS_ID, nullable=True, index=True),
    Column("partner_contact", SYS_ID, nullable=True, index=True),
    Index("ix_vis_work_orders_order", "number", "sys_id"),
)

vis_tasks = Table(
    "vis_tasks",
    metadata,
    Column("sys_id", SYS_ID, primary_key=True),
    Column("parent", SYS_ID, nullable=True),
    Column("number", Text, nullable=False, default=""),
    Column("state", Text, nullable=False, default=""),
    Column("short_description", Text, nullable=False, default=""),
    Index("ix_vis_tasks_parent", "parent", "number"),
)

#: The materialised grants: which keys each user's rules match (see ``rules.RULE_COLUMNS``).
vis_user_scope = Table(
    "vis_user_scope",
    metadata,
    Column("user_id", SYS_ID, primary_key=True),
    Column("rule", String(24), primary_key=True),
    Column("key_id", SYS_ID, primary_key=True),
    Index("ix_vis_user_scope_key", "rule", "key_id", "user_id"),
)

#: Every table of the index, in a safe order to clear.
INDEX_TABLES = (
    vis_user_scope,
    vis_itsm_records,
    vis_tasks,
    vis_work_orders,
    vis_cases,
    vis_contact_relationships,
    vis_users,
    vis_account_relationships,
    vis_accounts,
)
