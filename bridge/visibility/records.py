"""Contract-shaped records → rows of the index's normalised tables (pure, no I/O)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy import Table

from bridge.visibility.rules import CASE_RECORD_FIELDS, RELATED_TABLES, REQUEST_TABLE, RULE_FIELDS
from bridge.visibility.schema import (
    vis_account_relationships,
    vis_accounts,
    vis_cases,
    vis_contact_relationships,
    vis_itsm_records,
    vis_tasks,
    vis_users,
    vis_work_orders,
)
from connectors.common import values
from connectors.common.values import is_sys_id, text

CASE_TABLES = ("sn_customerservice_case", "sn_order_case")
#: The ITSM tables a case's related records come from (``cmdb_ci`` is not one).
ITSM_TABLES = RELATED_TABLES

#: Source table → the index table that keeps it.
INDEX_TABLE_OF: dict[str, Table] = {
    "customer_account": vis_accounts,
    "account_relationship": vis_account_relationships,
    "customer_contact": vis_users,
    "csm_consumer": vis_users,
    "sn_customerservice_contact_relationship": vis_contact_relationships,
    "wm_order": vis_work_orders,
    "wm_task": vis_tasks,
    **{table: vis_cases for table in CASE_TABLES},
    **{table: vis_itsm_records for table in ITSM_TABLES},
}

USER_TABLES = ("customer_contact", "csm_consumer")


def ref(record: Mapping[str, Any], field: str) -> str | None:
    """The sys_id a reference field points to; None (a NULL column) when empty."""
    # The decoder validates references; anything else cannot match a sys_id, so it is empty.
    target = values.ref(record, field)
    return target if is_sys_id(target) else None


def roles_of(record: Mapping[str, Any]) -> frozenset[str]:
    return frozenset(part.strip() for part in text(record, "roles").split(",") if part.strip())


def index_row(table: str, sys_id: str, record: Mapping[str, Any]) -> dict[str, Any]:
    """The row ``INDEX_TABLE_OF[table]`` keeps for this record."""
    if table == "customer_account":
        return {"sys_id": sys_id, "name": text(record, "name"), "parent": ref(record, "parent")}
    if table == "account_relationship":
        return {
            "sys_id": sys_id,
            "from_company": ref(record, "from_company"),
            "to_company": ref(record, "to_company"),
        }
    if table in USER_TABLES:
        roles = roles_of(record) if table == "customer_contact" else frozenset()
        return {
            "sys_id": sys_id,
            "kind": "contact" if table == "customer_contact" else "consumer",
            "account": ref(record, "account") if table == "customer_contact" else None,
            "is_customer_admin": "customer_admin" in roles,
            "is_partner": "partner" in roles,
            "is_partner_admin": "partner_admin" in roles,
        }
    if table == "sn_customerservice_contact_relationship":
        return {"sys_id": sys_id, "contact": ref(record, "contact"), "company": ref(record, "company")}
    if table in CASE_TABLES:
        return {
            "sys_id": sys_id,
            "number": text(record, "number"),
            **{field: ref(record, field) for field in RULE_FIELDS},
            **{field: ref(record, field) for field, _ in CASE_RECORD_FIELDS},
        }
    if table in ITSM_TABLES:
        request = table == REQUEST_TABLE
        return {
            "sys_id": sys_id,
            "table_name": table,
            "number": text(record, "number"),
            "state": text(record, "request_state" if request else "state"),
            "short_description": text(record, "short_description"),
            "parent_case": ref(record, "parent") if request else None,
        }
    if table == "wm_order":
        return _work_order_row(sys_id, record)
    if table == "wm_task":
        return {
            "sys_id": sys_id,
            "parent": ref(record, "parent"),
            **{field: text(record, field) for field in ("number", "state", "short_description")},
        }
    raise KeyError(table)


def _work_order_row(sys_id: str, record: Mapping[str, Any]) -> dict[str, Any]:
    return {
        "sys_id": sys_id,
        **{field: text(record, field) for field in ("number", "state", "priority", "short_description")},
        "case_id": ref(record, "initiated_from"),
        "case_label": text(record, "initiated_from"),
        "account_label": text(record, "account"),
        **{field: ref(record, field) for field in RULE_FIELDS},
    }
