"""Reading the case structure the store knows: major cases, their children, related records."""

from __future__ import annotations

from bridge.flows.related_kinds import (
    ACCEPTED,
    CANDIDATE_OF,
    MAJOR_CHILD,
)
from bridge.store.unit_of_work import BatchState, StoredRecord


def is_major(case: StoredRecord | None) -> bool:
    return case is not None and not case.deleted and case.text("major_case_state") == ACCEPTED


async def accepted_major(state: BatchState, case: StoredRecord) -> StoredRecord | None:
    """The accepted major case this case is a child of, if the store knows one."""
    parent_id = case.ref("parent")
    if not parent_id or parent_id == case.sys_id:
        return None
    parent = await state.record(parent_id)
    return parent if is_major(parent) else None


async def children_of(state: BatchState, major_id: str) -> list[StoredRecord]:
    """The live children of a major case (whose ``parent`` still names it), by sys_id."""
    children = []
    child_ids = await state.linked(MAJOR_CHILD, major_id)
    await state.load(child_ids)  # one query for all of them, not one per child
    for child_id in child_ids:
        child = await state.record(child_id)
        if child is not None and not child.deleted and child.ref("parent") == major_id:
            children.append(child)
    return children


async def read_only_major(state: BatchState, case: StoredRecord) -> str | None:
    """The major case (its number) under which this case's related records are read-only: the
    one it joined as a candidate, while that is still its ``parent``. It holds from the event
    that says the candidate joined, even before the major case's own events arrive (then it is
    named by the ``parent`` reference's label)."""
    parent = case.ref("parent")
    if not parent or parent not in await state.linked(CANDIDATE_OF, case.sys_id):
        return None
    major = await state.record(parent)
    if major is not None and major.text("number"):
        return major.text("number")
    return case.text("parent") or parent
