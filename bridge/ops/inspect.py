"""``bridge inspect``: what the bridge knows and did for one record."""

from __future__ import annotations

from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.ext.asyncio import AsyncConnection

from bridge.flows import links as link_kinds
from bridge.store.schema import dead_letters, links, outbox, processed_events, records
from bridge.visibility.schema import (
    vis_account_relationships,
    vis_accounts,
    vis_users,
    vis_work_orders,
)
from connectors.common.values import text


class NotFound(LookupError):
    pass


async def find_record(conn: AsyncConnection, ident: str, tables: tuple[str, ...] = ()) -> Any:
    """A stored record by sys_id or number (optionally limited to some tables)."""
    query = select(records).where(or_(records.c.sys_id == ident, records.c.number == ident))
    if tables:
        query = query.where(records.c.table_name.in_(tables))
    row = (await conn.execute(query.limit(1))).mappings().first()
    if row is None:
        raise NotFound(ident)
    return row


def _summary(row: Any) -> dict[str, Any]:
    return {
        "sys_id": row["sys_id"],
        "table": row["table_name"],
        "number": row["number"],
        "state": text(row["data"], "state"),
        "sys_mod_count": row["sys_mod_count"],
        "deleted": row["deleted"],
    }


async def _linked(
    conn: AsyncConnection, kind: str, *, from_id: str | None = None, to_id: str | None = None
) -> list[dict[str, Any]]:
    column_in, column_out = (links.c.from_id, links.c.to_id) if from_id else (links.c.to_id, links.c.from_id)
    ids = [
        r[0]
        for r in await conn.execute(select(column_out).where(links.c.kind == kind, column_in == (from_id or to_id)))
    ]
    rows = (await conn.execute(select(records).where(records.c.sys_id.in_(ids)))).mappings()
    known = {r["sys_id"]: _summary(r) for r in rows}
    return [known.get(i, {"sys_id": i, "known": False}) for i in sorted(ids)]


async def _history(conn: AsyncConnection, sys_id: str, limit: int) -> dict[str, Any]:
    events = (
        (
            await conn.execute(
                select(
                    processed_events.c.event_id,
                    processed_events.c.table_name,
                    processed_events.c.operation,
                    processed_events.c.action,
                    processed_events.c.sys_mod_count,
                    processed_events.c.outcome,
                    processed_events.c.detail,
                    processed_events.c.mapping_version,
                    processed_events.c.processed_at,
                )
                .where(processed_events.c.sys_id == sys_id)
                .order_by(processed_events.c.processed_at.desc())
                .limit(limit)
            )
        )
        .mappings()
        .all()
    )
    commands = (
        (
            await conn.execute(
                select(
                    outbox.c.message_id,
                    outbox.c.kind,
                    outbox.c.target,
                    outbox.c.target_table,
                    outbox.c.target_sys_id,
                    outbox.c.correlation_id,
                    outbox.c.rule,
                    outbox.c.mapping_version,
                    outbox.c.cause_event_id,
                    outbox.c.created_at,
                    outbox.c.sent_at,
                )
                .where(or_(outbox.c.cause_sys_id == sys_id, outbox.c.target_sys_id == sys_id))
                .order_by(outbox.c.seq.desc())
                .limit(limit)
            )
        )
        .mappings()
        .all()
    )
    dropped = [e for e in events if e["outcome"] not in ("applied",)]
    return {
        "events": [dict(e) for e in events],
        "commands": [dict(c) for c in commands],
        "dropped": [dict(d) for d in dropped],
    }


async def inspect_case(conn: AsyncConnection, ident: str, limit: int = 50) -> dict[str, Any]:
    case = await find_record(conn, ident, ("sn_customerservice_case", "sn_order_case"))
    work_orders = await _linked(conn, link_kinds.CASE_WORK_ORDER, from_id=case["sys_id"])
    for wo in work_orders:
        wo["tasks"] = await _linked(conn, link_kinds.WORK_ORDER_TASK, from_id=wo["sys_id"])
    return {"case": _summary(case), "work_orders": work_orders, **await _history(conn, case["sys_id"], limit)}


async def inspect_work_order(conn: AsyncConnection, ident: str, limit: int = 50) -> dict[str, Any]:
    wo = await find_record(conn, ident, ("wm_order",))
    return {
        "work_order": _summary(wo),
        "cases": await _linked(conn, link_kinds.CASE_WORK_ORDER, to_id=wo["sys_id"]),
        "tasks": await _linked(conn, link_kinds.WORK_ORDER_TASK, from_id=wo["sys_id"]),
        **await _history(conn, wo["sys_id"], limit),
    }


async def inspect_record(conn: AsyncConnection, ident: str, limit: int = 50) -> dict[str, Any]:
    """Any record: its state, every link in or out, events, commands and dead letters."""
    row = await find_record(conn, ident)
    sys_id = row["sys_id"]
    edges = (
        await conn.execute(
            select(links.c.kind, links.c.from_id, links.c.to_id)
            .where(or_(links.c.from_id == sys_id, links.c.to_id == sys_id), links.c.kind != "note_routing")
            .order_by(links.c.kind, links.c.from_id, links.c.to_id)
        )
    ).all()
    letters = (
        (
            await conn.execute(
                select(
                    dead_letters.c.id,
                    dead_letters.c.reason_code,
                    dead_letters.c.stage,
                    dead_letters.c.status,
                    dead_letters.c.created_at,
                )
                .where(dead_letters.c.sys_id == sys_id)
                .order_by(dead_letters.c.created_at.desc())
                .limit(limit)
            )
        )
        .mappings()
        .all()
    )
    return {
        "record": _summary(row),
        "links": [
            {"kind": k, "direction": "out" if f == sys_id else "in", "other": t if f == sys_id else f}
            for k, f, t in edges
        ],
        "dead_letters": [dict(d) for d in letters],
        **await _history(conn, sys_id, limit),
    }


async def inspect_account(conn: AsyncConnection, ident: str, limit: int = 50) -> dict[str, Any]:
    """An account: its place in the hierarchy, relationships, contacts and work orders."""
    row = await find_record(conn, ident, ("customer_account",))
    sys_id = row["sys_id"]
    children = (
        (await conn.execute(select(vis_accounts.c.sys_id, vis_accounts.c.name).where(vis_accounts.c.parent == sys_id)))
        .mappings()
        .all()
    )
    related = (
        await conn.execute(
            select(vis_account_relationships.c.from_company, vis_account_relationships.c.to_company).where(
                or_(
                    vis_account_relationships.c.from_company == sys_id, vis_account_relationships.c.to_company == sys_id
                )
            )
        )
    ).all()
    contacts = (
        (
            await conn.execute(
                select(
                    vis_users.c.sys_id,
                    vis_users.c.is_customer_admin,
                    vis_users.c.is_partner,
                    vis_users.c.is_partner_admin,
                )
                .where(vis_users.c.account == sys_id)
                .order_by(vis_users.c.sys_id)
            )
        )
        .mappings()
        .all()
    )
    work_orders = (
        (
            await conn.execute(
                select(vis_work_orders.c.sys_id, vis_work_orders.c.number, vis_work_orders.c.state)
                .where(or_(vis_work_orders.c.account == sys_id, vis_work_orders.c.partner == sys_id))
                .order_by(vis_work_orders.c.number)
                .limit(limit)
            )
        )
        .mappings()
        .all()
    )
    return {
        "account": {**_summary(row), "parent": row["data"].get("parent") or None},
        "children": [dict(c) for c in children],
        "related_accounts": sorted({t if f == sys_id else f for f, t in related}),
        "contacts": [dict(c) for c in contacts],
        "work_orders": [dict(w) for w in work_orders],
        **await _history(conn, sys_id, limit),
    }
