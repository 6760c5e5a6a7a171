"""The contract's visibility table, expressed as scope rules.

A user's scope is a set of ``(rule, key)`` rows; a work order is visible when one of its
columns equals the key of a rule that matches on that column:

| rule | granted to | keys | matches work-order column |
|---|---|---|---|
| ``self`` | every known contact or consumer | the user | ``contact``, ``consumer`` |
| ``partner`` | contacts with role ``partner`` | the user | ``partner_contact`` |
| ``customer_admin`` | role ``customer_admin`` | admin accounts (below) | ``account`` |
| ``partner_admin`` | role ``partner_admin`` | admin accounts | ``account``, ``partner`` |
| ``partner_admin_related`` | role ``partner_admin`` | accounts related to an admin account | ``account`` |

Admin accounts: the contact's account, its descendants in the hierarchy (any depth), and the
accounts the contact has a contact relationship with. Account relationships are two-way.

A case is visible to the portal's "Related Records" widget by the same rules, matched on the
case's own columns of the same names (``account``, ``partner``, ``contact``, ``consumer``,
``partner_contact``): ``RULE_COLUMNS`` applies to ``vis_cases`` as it does to
``vis_work_orders``. The widget lists the ITSM records of ``CASE_RECORD_FIELDS`` and the
requests whose ``parent`` is the case.
"""

from __future__ import annotations

SELF = "self"
PARTNER = "partner"
CUSTOMER_ADMIN = "customer_admin"
PARTNER_ADMIN = "partner_admin"
PARTNER_ADMIN_RELATED = "partner_admin_related"

#: Rules whose keys are the admin accounts (a hierarchy or relationship change touches them).
ADMIN_RULES = (CUSTOMER_ADMIN, PARTNER_ADMIN)

#: (rule, work-order column, label reported by ``who``); one row per way a rule can match.
RULE_COLUMNS: tuple[tuple[str, str, str], ...] = (
    (SELF, "contact", "contact"),
    (SELF, "consumer", "consumer"),
    (PARTNER, "partner_contact", "partner"),
    (CUSTOMER_ADMIN, "account", "customer_admin"),
    (PARTNER_ADMIN, "account", "partner_admin"),
    (PARTNER_ADMIN, "partner", "partner_admin:partner"),
    (PARTNER_ADMIN_RELATED, "account", "partner_admin:related_account"),
)

#: The columns the rules match on, on work orders and cases alike.
RULE_FIELDS: tuple[str, ...] = tuple(dict.fromkeys(column for _, column, _ in RULE_COLUMNS))

#: Rules that report an account (their key is an account, not the user).
ACCOUNT_RULES = frozenset({CUSTOMER_ADMIN, PARTNER_ADMIN, PARTNER_ADMIN_RELATED})

#: (case field, table of the record it names): the case's related records the portal lists.
#: The contract's portal section names "the incident, problem and change of the case and its
#: requests"; ``caused_by`` (a change too) is not among them.
CASE_RECORD_FIELDS: tuple[tuple[str, str], ...] = (
    ("incident", "incident"),
    ("problem", "problem"),
    ("change", "change_request"),
)

#: Requests name their case (``parent``); a case may have many.
REQUEST_TABLE = "sc_request"

#: The ITSM tables the portal may list, in the order it lists them.
RELATED_TABLES: tuple[str, ...] = (*(table for _, table in CASE_RECORD_FIELDS), REQUEST_TABLE)
