"""Case ↔ ITSM vocabulary: the case's related-record fields, their ITSM tables and link kinds.

A case points at its related records through four reference fields (one record each) and has
any number of requests (the request's ``parent`` is the case). The store keeps one link kind per
field, case → ITSM record, so "which cases does this change belong to, and as what" is one
lookup per kind.
"""

from __future__ import annotations

#: case field → the ITSM table it references
RELATED_FIELDS: dict[str, str] = {
    "incident": "incident",
    "problem": "problem",
    "change": "change_request",
    "caused_by": "change_request",
}
#: requests are not a case field: the request's ``parent`` names the case (many per case)
REQUEST = "request"
REQUEST_TABLE = "sc_request"

#: ITSM table → the relations (case fields, or ``request``) through which a case can hold it
RELATIONS_OF_TABLE: dict[str, tuple[str, ...]] = {
    "incident": ("incident",),
    "problem": ("problem",),
    "change_request": ("change", "caused_by"),
    REQUEST_TABLE: (REQUEST,),
}
ITSM_TABLES = tuple(RELATIONS_OF_TABLE)

#: create action → (relation it fills, ITSM table it creates)
CREATE_ACTIONS: dict[str, tuple[str, str]] = {
    "create_incident": ("incident", "incident"),
    "create_problem": ("problem", "problem"),
    "create_change": ("change", "change_request"),
    "create_request": (REQUEST, REQUEST_TABLE),
}

#: what people call each relation in notes
LABELS = {
    "incident": "incident",
    "problem": "problem",
    "change": "change request",
    "caused_by": "caused-by change",
    REQUEST: "request",
}

MAJOR_CHILD = "major_child"  # major case → child case (the child's ``parent``)
#: candidate → itself: proposed and not joined a major case yet (kept while CSM clears
#: ``major_case_state`` before it sets ``parent``; ends when it joins, or is rejected/canceled)
CANDIDATE = "major_candidate"
#: candidate → the major case it joined as a candidate: while that major case is its ``parent``,
#: its related records are read-only
CANDIDATE_OF = "candidate_child"
CHILD_LOCKED = "child_locked"  # accepted candidate → its major: related fields copied (once)

#: case states in which a child is skipped by major → child sync, and no solution is proposed
CASE_DONE_STATES = frozenset({"6", "3", "7"})  # Resolved, Closed, Canceled
ACCEPTED = "accepted"
PROPOSED = "proposed"
#: a candidate in these states is no longer one (``""`` is not among them: CSM may clear the
#: state before it sets the new major case as ``parent``)
NOT_A_CANDIDATE = frozenset({ACCEPTED, "rejected", "canceled"})


def related_kind(relation: str) -> str:
    """The link kind case → ITSM record for one relation (``related_incident``, …)."""
    return f"related_{relation}"


def requested_kind(relation: str) -> str:
    """Marker case → case: an insert for this relation was sent and ITSM has not answered yet."""
    return f"requested_{relation}"
