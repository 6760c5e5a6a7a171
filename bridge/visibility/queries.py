"""The index's read side: what a user may see, and who sees a work order.

``visible_work_orders`` is one statement: the user's scope rows, joined by index to the
work-order column each rule matches, ordered by (number, sys_id) with keyset pagination.
``case_related_records`` is one statement too: the case, kept only when one of the user's
scope rows matches one of the case's own columns (as for a work order's detail), outer-joined
to the ITSM records of its incident/problem/change fields and the requests whose parent it is.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Exists,
    Subquery,
    Table,
    and_,
    bindparam,
    case,
    cast,
    literal,
    null,
    or_,
    select,
    union,
    union_all,
)
from sqlalchemy.ext.asyncio import AsyncConnection

from bridge.store.metadata import SYS_ID
from bridge.store.sql import AnySelect
from bridge.visibility.rules import ACCOUNT_RULES, CASE_RECORD_FIELDS, RELATED_TABLES, REQUEST_TABLE, RULE_COLUMNS
from bridge.visibility.schema import (
    vis_accounts as acc,
)
from bridge.visibility.schema import (
    vis_cases as cases,
)
from bridge.visibility.schema import (
    vis_itsm_records as itsm,
)
from bridge.visibility.schema import (
    vis_tasks as tasks,
)
from bridge.visibility.schema import (
    vis_user_scope as scope,
)
from bridge.visibility.schema import (
    vis_work_orders as wo,
)

MAX_LIMIT = 1000


@dataclass(frozen=True, slots=True)
class Cursor:
    """Where a page ends: the last row's sort key."""

    number: str
    sys_id: str


@dataclass(frozen=True, slots=True)
class Page:
    rows: list[dict[str, Any]]
    next_cursor: Cursor | None


@dataclass(frozen=True, slots=True)
class Grant:
    """One way a user sees a work order (``account_id`` is None for the personal rules)."""

    user_id: str
    account_id: str | None
    rule: str


def _visible_ids(user_id: str) -> Subquery:
    return union(
        *(
            select(wo.c.sys_id)
            .join(scope, scope.c.key_id == wo.c[column])
            .where(scope.c.user_id == user_id, scope.c.rule == rule)
            for rule, column, _ in RULE_COLUMNS
        )
    ).subquery("visible")


def _summary_columns() -> tuple[ColumnElement[Any], ...]:
    return (
        wo.c.sys_id,
        wo.c.number,
        wo.c.priority,
        wo.c.state,
        wo.c.short_description,
        wo.c.case_id,
        cases.c.number.label("case_number"),
        wo.c.case_label,
        wo.c.account,
        acc.c.name.label("account_name"),
        wo.c.account_label,
    )


def _with_labels(query: AnySelect) -> AnySelect:
    return query.outerjoin(acc, acc.c.sys_id == wo.c.account).outerjoin(cases, cases.c.sys_id == wo.c.case_id)


def summary(row: Any) -> dict[str, Any]:
    """A work order as the contract's portal API shows it."""
    return {
        "sys_id": row.sys_id,
        "number": row.number,
        "priority": row.priority,
        "state": row.state,
        "short_description": row.short_description,
        "case": {"sys_id": row.case_id or "", "number": _known_or_label(row.case_id, row.case_number, row.case_label)},
        "account": {
            "sys_id": row.account or "",
            "name": _known_or_label(row.account, row.account_name, row.account_label),
        },
    }


def _known_or_label(ref: str | None, known: str | None, shown: str) -> str:
    """The referenced record's own value when the index knows it, else the reference's label."""
    if ref is None:
        return ""
    return known if known is not None else shown


async def visible_work_orders(
    conn: AsyncConnection, user_id: str, *, limit: int = 100, cursor: Cursor | None = None
) -> Page:
    """The work orders ``user_id`` may see, by (number, sys_id), after ``cursor``."""
    limit = max(1, min(limit, MAX_LIMIT))
    visible = _visible_ids(user_id)
    query = _with_labels(select(*_summary_columns()).select_from(wo.join(visible, visible.c.sys_id == wo.c.sys_id)))
    if cursor is not None:
        query = query.where(
            or_(wo.c.number > cursor.number, and_(wo.c.number == cursor.number, wo.c.sys_id > cursor.sys_id))
        )
    rows = (await conn.execute(query.order_by(wo.c.number, wo.c.sys_id).limit(limit + 1))).all()
    more = len(rows) > limit
    rows = rows[:limit]
    next_cursor = Cursor(rows[-1].number, rows[-1].sys_id) if more else None
    return Page([summary(row) for row in rows], next_cursor)


def _granted(user_id: Any, table: Table = wo) -> Exists:
    """True for a work-order (or case) row when one of the user's scope rows matches it."""
    return (
        select(scope.c.user_id)
        .where(
            scope.c.user_id == user_id,
            or_(*(and_(scope.c.rule == rule, scope.c.key_id == table.c[column]) for rule, column, _ in RULE_COLUMNS)),
        )
        .exists()
    )


async def work_order_detail(conn: AsyncConnection, user_id: str, wo_sys_id: str) -> dict[str, Any] | None:
    """The work order with its tasks, or None when it does not exist or the user may not see it."""
    query = _with_labels(select(*_summary_columns()).select_from(wo)).where(
        wo.c.sys_id == wo_sys_id, _granted(user_id, wo)
    )
    row = (await conn.execute(query)).first()
    if row is None:
        return None
    task_rows = await conn.execute(
        select(tasks.c.sys_id, tasks.c.number, tasks.c.state, tasks.c.short_description)
        .where(tasks.c.parent == wo_sys_id)
        .order_by(tasks.c.number, tasks.c.sys_id)
    )
    return {**summary(row), "tasks": [dict(task) for task in task_rows.mappings()]}


#: An ITSM record is one of the case's related records: named by the case's field for its
#: table, or a request whose parent is the case.
_RELATED_TO_CASE = or_(
    *(and_(itsm.c.sys_id == cases.c[field], itsm.c.table_name == table) for field, table in CASE_RECORD_FIELDS),
    and_(itsm.c.parent_case == cases.c.sys_id, itsm.c.table_name == REQUEST_TABLE),
)

#: Built once; the case row is there only when visible, with one row per related record the
#: index knows (or one of NULLs). Ordered: incident, problem, change, then the requests, each
#: by (number, sys_id).
_CASE_RELATED_RECORDS = (
    select(
        cases.c.sys_id.label("case_id"),
        itsm.c.sys_id,
        itsm.c.table_name,
        itsm.c.number,
        itsm.c.state,
        itsm.c.short_description,
    )
    .select_from(cases.outerjoin(itsm, _RELATED_TO_CASE))
    .where(cases.c.sys_id == bindparam("case_id"), _granted(bindparam("user_id"), cases))
    .order_by(
        case({table: rank for rank, table in enumerate(RELATED_TABLES)}, value=itsm.c.table_name),
        itsm.c.number,
        itsm.c.sys_id,
    )
)


async def case_related_records(conn: AsyncConnection, user_id: str, case_sys_id: str) -> list[dict[str, Any]] | None:
    """The case's related records as the contract's portal API shows them, or None when the
    case does not exist or the user may not see it (by the work-order rules on its own columns).
    Records the case names but the bridge has not seen yet are not listed."""
    rows = (await conn.execute(_CASE_RELATED_RECORDS, {"case_id": case_sys_id, "user_id": user_id})).all()
    if not rows:
        return None
    return [
        {
            "sys_id": row.sys_id,
            "table": row.table_name,
            "number": row.number,
            "state": row.state,
            "short_description": row.short_description,
        }
        for row in rows
        if row.sys_id is not None
    ]


async def who_sees(conn: AsyncConnection, wo_sys_id: str) -> list[Grant]:
    """Every (user, account, rule) that grants the work order, sorted."""
    parts = [
        select(
            scope.c.user_id,
            (scope.c.key_id if rule in ACCOUNT_RULES else cast(null(), SYS_ID)).label("account_id"),
            literal(reported).label("rule"),
        )
        .join(wo, wo.c[column] == scope.c.key_id)
        .where(wo.c.sys_id == wo_sys_id, scope.c.rule == rule)
        for rule, column, reported in RULE_COLUMNS
    ]
    rows = (await conn.execute(union_all(*parts))).all()
    grants = {Grant(row.user_id, row.account_id, row.rule) for row in rows}
    return sorted(grants, key=lambda g: (g.user_id, g.rule, g.account_id or ""))


async def find_work_order_id(conn: AsyncConnection, sys_id_or_number: str) -> str | None:
    """The sys_id of a work order given its sys_id or its number."""
    row = (
        await conn.execute(
            select(wo.c.sys_id).where(or_(wo.c.sys_id == sys_id_or_number, wo.c.number == sys_id_or_number)).limit(1)
        )
    ).first()
    return row.sys_id if row else None


async def find_case_id(conn: AsyncConnection, sys_id_or_number: str) -> str | None:
    """The sys_id of a case given its sys_id or its number."""
    row = (
        await conn.execute(
            select(cases.c.sys_id)
            .where(or_(cases.c.sys_id == sys_id_or_number, cases.c.number == sys_id_or_number))
            .order_by(cases.c.sys_id)
            .limit(1)
        )
    ).first()
    return row.sys_id if row else None
