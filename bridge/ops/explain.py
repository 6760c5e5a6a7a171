"""``bridge explain case``: for each related-record update a case saw or did not see, where its
notes went and the rule that decided (read from the routing log, see
``bridge.flows.routing_log``)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncConnection

from bridge.flows.related_kinds import MAJOR_CHILD, RELATED_FIELDS, REQUEST, related_kind
from bridge.flows.routing_log import KIND, WHY, ordered, routing_key, utc_text
from bridge.ops.inspect import NotFound, find_record
from bridge.store.schema import links, records
from connectors.common.values import ref, text

__all__ = ["NotFound", "explain_case"]
CASE_TABLES = ("sn_customerservice_case", "sn_order_case")


def _summary(row: Any) -> dict[str, Any]:
    data = row["data"]
    return {
        "sys_id": row["sys_id"],
        "table": row["table_name"],
        "number": row["number"],
        "state": text(data, "state") or text(data, "request_state"),
        "major_case_state": text(data, "major_case_state"),
    }


async def _records(conn: AsyncConnection, ids: list[str]) -> dict[str, dict[str, Any]]:
    if not ids:
        return {}
    rows = (await conn.execute(select(records).where(records.c.sys_id.in_(ids)))).mappings()
    return {r["sys_id"]: _summary(r) for r in rows}


async def _targets(conn: AsyncConnection, kind: str, from_id: str) -> list[str]:
    rows = await conn.execute(select(links.c.to_id).where(links.c.kind == kind, links.c.from_id == from_id))
    return sorted(r[0] for r in rows)


async def load_decisions(conn: AsyncConnection, case_id: str) -> list[dict[str, Any]]:
    """Stored routing decisions for a case, in the order the bridge routed them."""
    rows = await conn.execute(
        select(links.c.from_id, links.c.attrs, links.c.created_at).where(
            links.c.kind == KIND, links.c.to_id == routing_key(case_id)
        )
    )
    return ordered({from_id: {**attrs, "routed_at": utc_text(created_at)} for from_id, attrs, created_at in rows})


async def explain_case(conn: AsyncConnection, ident: str) -> dict[str, Any]:
    """The case, its major/children, related records and every routing decision about it."""
    case = await find_record(conn, ident, CASE_TABLES)
    case_id = case["sys_id"]
    related = {
        relation: await _targets(conn, related_kind(relation), case_id) for relation in (*RELATED_FIELDS, REQUEST)
    }
    children = await _targets(conn, MAJOR_CHILD, case_id)
    parent_id = ref(case["data"], "parent")
    decisions = await load_decisions(conn, case_id)
    named = (*children, parent_id, *(d.get("via") for d in decisions), *(i for ids in related.values() for i in ids))
    known = await _records(conn, sorted({i for i in named if i}))  # no empty ids (nor None)
    return {
        "case": _summary(case),
        "parent": known.get(parent_id) if parent_id else None,
        "children": [known.get(c, {"sys_id": c}) for c in children],
        "related_records": [
            {"relation": relation, **known.get(i, {"sys_id": i})} for relation, ids in related.items() for i in ids
        ],
        "updates": [_update(d, known) for d in decisions],
    }


def _update(decision: dict[str, Any], known: dict[str, dict[str, Any]]) -> dict[str, Any]:
    via = decision.get("via") or ""
    return {
        "record": {
            "table": decision.get("record_table"),
            "sys_id": decision.get("record_sys_id"),
            "number": decision.get("record_number"),
        },
        "sys_mod_count": decision.get("sys_mod_count"),
        "updated_on": decision.get("updated_on"),
        "routed_at": decision.get("routed_at"),
        "event_id": decision.get("event_id"),
        "relations": decision.get("relations", []),
        "delivered": bool(decision.get("delivered")),
        "rule": decision.get("rule"),
        "why": WHY.get(str(decision.get("rule")), ""),
        "via": (known.get(via, {}).get("number") or via) if via else None,
        "notes": [key for key, _ in decision.get("notes", [])],
        "resolution": decision.get("resolution") or None,
    }
