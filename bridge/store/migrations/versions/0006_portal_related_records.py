"""portal related records: the case's own visibility columns and related-record fields, and the
ITSM records the portal's "Related Records" widget lists

``vis_cases`` gains the columns the work-order rules match on (``account``, ``partner``,
``contact``, ``consumer``, ``partner_contact``) and the related records it names
(``incident``, ``problem``, ``change``); ``vis_itsm_records`` keeps incidents, problems, changes
and requests (a request's ``parent`` case). Both are filled here from ``records``, as
``bridge visibility rebuild`` would (the rows are computed as ``bridge.visibility.records``
computes them today, copied so that this migration keeps doing what it did).

On PostgreSQL the portal role cannot read the new table until the bridge's start installs its
row-level-security policy (``install_rls``, on every start); until then it reads nothing there.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-04 09:00:00
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

CASE_TABLES = ("sn_customerservice_case", "sn_order_case")
ITSM_TABLES = ("incident", "problem", "change_request", "sc_request")
RULE_COLUMNS = ("account", "partner", "contact", "consumer", "partner_contact")
RELATED_COLUMNS = ("incident", "problem", "change")
PAGE = 5000
_SYS_ID = re.compile(r"[0-9a-f]{32}")
# The cases' policy before this revision (``install_rls`` replaces it on the next start).
_OLD_CASES_POLICY = "EXISTS (SELECT 1 FROM vis_work_orders w WHERE w.case_id = vis_cases.sys_id)"

records = sa.table(
    "records",
    sa.column("sys_id", sa.String(32)),
    sa.column("table_name", sa.String(64)),
    sa.column("deleted", sa.Boolean()),
    sa.column("data", sa.JSON()),
)
vis_cases = sa.table(
    "vis_cases",
    sa.column("sys_id", sa.String(32)),
    sa.column("number", sa.Text()),
    *(sa.column(name, sa.String(32)) for name in (*RULE_COLUMNS, *RELATED_COLUMNS)),
)
vis_itsm_records = sa.table(
    "vis_itsm_records",
    *(sa.column(name, sa.String(32)) for name in ("sys_id", "table_name", "parent_case")),
    *(sa.column(name, sa.Text()) for name in ("number", "state", "short_description")),
)


def upgrade() -> None:
    for name in (*RULE_COLUMNS, *RELATED_COLUMNS):
        op.add_column("vis_cases", sa.Column(name, sa.String(length=32), nullable=True))
    for name in RELATED_COLUMNS:
        op.create_index(op.f(f"ix_vis_cases_{name}"), "vis_cases", [name], unique=False)
    op.create_table(
        "vis_itsm_records",
        sa.Column("sys_id", sa.String(length=32), nullable=False),
        sa.Column("table_name", sa.String(length=32), nullable=False),
        sa.Column("number", sa.Text(), nullable=False),
        sa.Column("state", sa.Text(), nullable=False),
        sa.Column("short_description", sa.Text(), nullable=False),
        sa.Column("parent_case", sa.String(length=32), nullable=True),
        sa.PrimaryKeyConstraint("sys_id", name=op.f("pk_vis_itsm_records")),
    )
    op.create_index(op.f("ix_vis_itsm_records_parent_case"), "vis_itsm_records", ["parent_case"], unique=False)
    _backfill(op.get_bind())


def downgrade() -> None:
    op.drop_index(op.f("ix_vis_itsm_records_parent_case"), table_name="vis_itsm_records")
    op.drop_table("vis_itsm_records")
    bind = op.get_bind()
    if bind.dialect.name == "postgresql":
        # The cases' policy reads the columns about to go: back to the one before (same roles).
        bind.exec_driver_sql(
            "DO $$ BEGIN IF EXISTS (SELECT 1 FROM pg_policies WHERE schemaname = current_schema() "
            "AND tablename = 'vis_cases' AND policyname = 'portal_read') THEN "
            f"ALTER POLICY portal_read ON vis_cases USING ({_OLD_CASES_POLICY}); END IF; END $$"
        )
    for name in RELATED_COLUMNS:
        op.drop_index(op.f(f"ix_vis_cases_{name}"), table_name="vis_cases")
    with op.batch_alter_table("vis_cases", recreate="auto") as batch:
        for name in (*RULE_COLUMNS, *RELATED_COLUMNS):
            batch.drop_column(name)


def _backfill(bind: sa.engine.Connection) -> None:
    """The live records' case and ITSM rows, a page at a time (by sys_id): each case's row is
    replaced by the one ``rebuild`` makes (a case the index lacked is added)."""
    after = ""
    while True:
        page = bind.execute(
            sa.select(records.c.sys_id, records.c.table_name, records.c.data)
            .where(
                records.c.table_name.in_([*CASE_TABLES, *ITSM_TABLES]),
                records.c.deleted.is_(False),
                records.c.sys_id > after,
            )
            .order_by(records.c.sys_id)
            .limit(PAGE)
        ).all()
        cases = [_case_row(row.sys_id, row.data) for row in page if row.table_name in CASE_TABLES]
        itsm = [_itsm_row(row.sys_id, row.table_name, row.data) for row in page if row.table_name in ITSM_TABLES]
        if cases:
            bind.execute(vis_cases.delete().where(vis_cases.c.sys_id.in_([row["sys_id"] for row in cases])))
            bind.execute(vis_cases.insert(), cases)
        if itsm:
            bind.execute(vis_itsm_records.insert(), itsm)
        if len(page) < PAGE:
            return
        after = page[-1].sys_id


def _ref(record: Mapping[str, Any], field: str) -> str | None:
    value = record.get(field)
    if isinstance(value, Mapping):
        value = value.get("value")
    return value if isinstance(value, str) and _SYS_ID.fullmatch(value) else None


def _text(record: Mapping[str, Any], field: str) -> str:
    value = record.get(field)
    return value if isinstance(value, str) else ""


def _case_row(sys_id: str, record: Mapping[str, Any]) -> dict[str, Any]:
    return {
        "sys_id": sys_id,
        "number": _text(record, "number"),
        **{name: _ref(record, name) for name in (*RULE_COLUMNS, *RELATED_COLUMNS)},
    }


def _itsm_row(sys_id: str, table: str, record: Mapping[str, Any]) -> dict[str, Any]:
    request = table == "sc_request"
    return {
        "sys_id": sys_id,
        "table_name": table,
        "number": _text(record, "number"),
        "state": _text(record, "request_state" if request else "state"),
        "short_description": _text(record, "short_description"),
        "parent_case": _ref(record, "parent") if request else None,
    }
