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

#: Rules that report an account (their key is an account, not the user).
ACCOUNT_RULES = frozenset({CUSTOMER_ADMIN, PARTNER_ADMIN, PARTNER_ADMIN_RELATED})
