"""The per-account visibility index: which work orders, and which cases' related records,
each portal user may see.

Kept incrementally from the batch pipeline (``apply_changes``), rebuildable from the stored
records (``rebuild``), verifiable (``check``), and read by the portal API and the CLI.
"""

from bridge.visibility.maintain import apply_changes, maintenance_plan
from bridge.visibility.queries import (
    Cursor,
    Grant,
    Page,
    case_related_records,
    find_case_id,
    find_work_order_id,
    visible_work_orders,
    who_sees,
    work_order_detail,
)
from bridge.visibility.rebuild import Difference, check, rebuild
from bridge.visibility.rls import DEFAULT_PORTAL_ROLE, as_portal_user, install_rls

__all__ = [
    "DEFAULT_PORTAL_ROLE",
    "Cursor",
    "Difference",
    "Grant",
    "Page",
    "apply_changes",
    "as_portal_user",
    "case_related_records",
    "check",
    "find_case_id",
    "find_work_order_id",
    "install_rls",
    "maintenance_plan",
    "rebuild",
    "visible_work_orders",
    "who_sees",
    "work_order_detail",
]
