"""CSM record models, one per contract table (`shared/contracts/README.md`, "CSM")."""

from __future__ import annotations

from typing import Final

from connectors.common.records import Record, RefField


class CaseRecord(Record):
    """`sn_customerservice_case`: a customer service case."""

    number: str = ""
    sys_class_name: str = ""
    state: str = ""
    priority: str = ""
    impact: str = ""
    urgency: str = ""
    channel: str = ""
    account: RefField = None
    contact: RefField = None
    consumer: RefField = None
    partner: RefField = None
    partner_contact: RefField = None
    product: RefField = None
    asset: RefField = None
    cmdb_ci: RefField = None
    location: RefField = None
    category: str = ""
    assignment_group: RefField = None
    assigned_to: RefField = None
    contract: str = ""
    entitlement: str = ""
    short_description: str = ""
    description: str = ""
    parent: RefField = None
    major_case_state: str = ""
    incident: RefField = None
    problem: RefField = None
    change: RefField = None
    caused_by: RefField = None
    resolution_code: str = ""
    close_notes: str = ""
    correlation_id: str = ""
    work_notes: str = ""
    comments: str = ""


class OrderCaseRecord(CaseRecord):
    """`sn_order_case`: a case about a customer order (extends the case)."""

    order: RefField = None


class AccountRecord(Record):
    """`customer_account`: a business customer or partner; `parent` forms the hierarchy."""

    number: str = ""
    name: str = ""
    parent: RefField = None
    primary_contact: RefField = None
    customer: str = ""
    partner: str = ""


class AccountRelationshipRecord(Record):
    """`account_relationship`: a two-way relationship between two accounts."""

    from_company: RefField = None
    to_company: RefField = None
    relationship_type: str = ""


class ContactRecord(Record):
    """`customer_contact`: a person acting for an account; `roles` is a comma list."""

    name: str = ""
    email: str = ""
    account: RefField = None
    roles: str = ""
    location: RefField = None


class ContactRelationshipRecord(Record):
    """`sn_customerservice_contact_relationship`: the contact also acts for `company`."""

    contact: RefField = None
    company: RefField = None


class ConsumerRecord(Record):
    """`csm_consumer`: an individual (B2C) customer."""

    name: str = ""
    email: str = ""
    location: RefField = None


class OrderRecord(Record):
    """`csm_order`: a customer order."""

    number: str = ""
    account: RefField = None
    contact: RefField = None
    consumer: RefField = None
    state: str = ""


class OrderLineItemRecord(Record):
    """`csm_order_line_item`: one line of an order."""

    order: RefField = None
    product: RefField = None
    quantity: str = ""
    state: str = ""
    ship_to: RefField = None


class OrderCaseLineRecord(Record):
    """`sn_order_case_line`: an order line item handled by an order case."""

    parent: RefField = None
    order_line_item: RefField = None
    state: str = ""


#: Table name → record model for every CSM table.
RECORD_MODELS: Final[dict[str, type[Record]]] = {
    "sn_customerservice_case": CaseRecord,
    "sn_order_case": OrderCaseRecord,
    "customer_account": AccountRecord,
    "account_relationship": AccountRelationshipRecord,
    "customer_contact": ContactRecord,
    "sn_customerservice_contact_relationship": ContactRelationshipRecord,
    "csm_consumer": ConsumerRecord,
    "csm_order": OrderRecord,
    "csm_order_line_item": OrderLineItemRecord,
    "sn_order_case_line": OrderCaseLineRecord,
}
