"""The contract's tables: which system owns each, which fields it has, which are references.

This is the single source of truth for table and field names (from
`shared/contracts/README.md`). Decoders, the mapping validator ("did you mean") and the
simulators all read it. Records may carry extra fields; these are the ones the contract names.
"""

from __future__ import annotations

from dataclasses import dataclass

SYS_FIELDS = frozenset(
    {
        "sys_id",
        "sys_class_name",
        "sys_created_on",
        "sys_created_by",
        "sys_updated_on",
        "sys_updated_by",
        "sys_mod_count",
    }
)


@dataclass(frozen=True, slots=True)
class TableSpec:
    """One table of the contract."""

    name: str
    system: str  # "csm" | "fsm" | "itsm"
    fields: frozenset[str]
    references: frozenset[str]  # fields whose value is {"value", "display_value"} or ""
    journal: frozenset[str] = frozenset()  # journal fields (always "" inside record)
    extends: str | None = None

    def has_field(self, field: str) -> bool:
        return field in self.fields or field in SYS_FIELDS


_CASE_REFS = frozenset(
    {
        "account",
        "contact",
        "consumer",
        "partner",
        "partner_contact",
        "product",
        "asset",
        "cmdb_ci",
        "location",
        "assignment_group",
        "assigned_to",
        "parent",
        "incident",
        "problem",
        "change",
        "caused_by",
    }
)
_CASE_FIELDS = _CASE_REFS | frozenset(
    {
        "number",
        "sys_class_name",
        "state",
        "priority",
        "impact",
        "urgency",
        "channel",
        "category",
        "contract",
        "entitlement",
        "short_description",
        "description",
        "major_case_state",
        "resolution_code",
        "close_notes",
        "correlation_id",
        "work_notes",
        "comments",
    }
)
_WO_REFS = frozenset(
    {
        "initiated_from",
        "account",
        "consumer",
        "contact",
        "asset",
        "partner",
        "partner_contact",
        "company",
        "caller",
        "location",
        "cmdb_ci",
    }
)


def _t(
    name: str,
    system: str,
    fields: set[str],
    refs: set[str] | frozenset[str] = frozenset(),
    journal: set[str] | frozenset[str] = frozenset(),
    extends: str | None = None,
) -> TableSpec:
    return TableSpec(
        name,
        system,
        frozenset(fields) | frozenset(refs) | frozenset(journal),
        frozenset(refs),
        frozenset(journal),
        extends,
    )


TABLES: dict[str, TableSpec] = {
    t.name: t
    for t in (
        _t("sn_customerservice_case", "csm", set(_CASE_FIELDS), _CASE_REFS, {"work_notes", "comments"}),
        _t(
            "sn_order_case",
            "csm",
            set(_CASE_FIELDS) | {"order"},
            _CASE_REFS | {"order"},
            {"work_notes", "comments"},
            extends="sn_customerservice_case",
        ),
        _t("customer_account", "csm", {"number", "name", "customer", "partner"}, {"parent", "primary_contact"}),
        _t("account_relationship", "csm", {"relationship_type"}, {"from_company", "to_company"}),
        _t("customer_contact", "csm", {"name", "email", "roles"}, {"account", "location"}),
        _t("sn_customerservice_contact_relationship", "csm", set(), {"contact", "company"}),
        _t("csm_consumer", "csm", {"name", "email"}, {"location"}),
        _t("csm_order", "csm", {"number", "state"}, {"account", "contact", "consumer"}),
        _t("csm_order_line_item", "csm", {"quantity", "state"}, {"order", "product", "ship_to"}),
        _t("sn_order_case_line", "csm", {"state"}, {"parent", "order_line_item"}),
        _t(
            "wm_order",
            "fsm",
            {"number", "state", "priority", "short_description", "description", "correlation_id", "work_notes"},
            _WO_REFS,
            {"work_notes"},
        ),
        _t(
            "wm_task",
            "fsm",
            {"number", "state", "short_description", "expected_start", "actual_end", "work_notes"},
            {"parent", "assigned_to"},
            {"work_notes", "comments"},
        ),
        _t(
            "incident",
            "itsm",
            {
                "number",
                "state",
                "hold_reason",
                "close_code",
                "close_notes",
                "priority",
                "impact",
                "urgency",
                "short_description",
                "description",
                "correlation_id",
                "comments",
                "work_notes",
            },
            {"caller_id", "company"},
            {"comments", "work_notes"},
        ),
        _t(
            "problem",
            "itsm",
            {
                "number",
                "state",
                "resolution_code",
                "workaround",
                "fix_notes",
                "cause_notes",
                "close_notes",
                "short_description",
                "correlation_id",
                "comments",
                "work_notes",
            },
            set(),
            {"comments", "work_notes"},
        ),
        _t(
            "change_request",
            "itsm",
            {
                "number",
                "type",
                "state",
                "on_hold",
                "on_hold_reason",
                "close_code",
                "close_notes",
                "short_description",
                "correlation_id",
                "comments",
                "work_notes",
            },
            set(),
            {"comments", "work_notes"},
        ),
        _t(
            "sc_request",
            "itsm",
            {"number", "request_state", "short_description", "correlation_id", "comments", "work_notes"},
            {"parent"},
            {"comments", "work_notes"},
        ),
        # A configuration item: the case's and the work order's `cmdb_ci`; `location` is its site.
        _t("cmdb_ci", "itsm", {"name", "operational_status"}, {"location", "company"}),
    )
}

SYSTEMS = ("csm", "fsm", "itsm")
OPERATIONS = ("insert", "update", "delete", "action")
CASE_TABLE = "sn_customerservice_case"
ORDER_CASE_TABLE = "sn_order_case"

#: Actions an agent can take on a case, and the arguments each accepts.
CASE_ACTIONS: dict[str, frozenset[str]] = {
    "create_work_order": frozenset(),
    "create_incident": frozenset(),
    "create_problem": frozenset(),
    "create_change": frozenset({"type", "template"}),
    "create_request": frozenset({"cat_item"}),
}


def tables_of(system: str) -> dict[str, TableSpec]:
    return {n: t for n, t in TABLES.items() if t.system == system}


def lineage(table: str) -> tuple[str, ...]:
    """The table and every table it extends, nearest first (`sn_order_case` → case)."""
    chain: list[str] = []
    current: str | None = table
    while current is not None and current in TABLES:
        chain.append(current)
        current = TABLES[current].extends
    return tuple(chain)


def is_case_table(table: str) -> bool:
    return CASE_TABLE in lineage(table)
