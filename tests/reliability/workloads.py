"""Deterministic inputs for the fault tests, from the simulators (no live responders).

The input is fixed before the bridge starts, so that a faulty run and the oracle's ordered run
see exactly the same events: nothing comes back from the systems while the bridge runs.
"""

from __future__ import annotations

from bridgedev.simulate import MIXES, Mix, SimMessage, SimWorld, Workload, population_messages

#: The standard mix without duplicates or malformed events: every event is valid and distinct.
CLEAN: Mix = MIXES["clean"]

#: CLEAN without contact and CI changes. A work order's location is derived from the case's CI
#: and contact as the bridge knows them when it acts; with several instances a contact or CI
#: change may commit on one while another instance reads that record, so no single order
#: explains that run. Without them the outputs do not depend on cross-partition timing.
CLEAN_NO_CONTACT_CHANGES = Mix(
    {k: v for k, v in CLEAN.weights.items() if k not in ("contact_change", "ci_change")},
    duplicate_share=0.0,
    malformed_share=0.0,
)


def realistic_input(seed: int, changes: int, *, size: str = "small", mix: Mix = CLEAN) -> list[SimMessage]:
    """A populated world's inserts, then ``changes`` workload messages (cases, actions,
    work-order progress, ITSM lifecycles, account and contact changes)."""
    return realistic_world(seed, changes, size=size, mix=mix)[1]


def realistic_world(
    seed: int, changes: int, *, size: str = "small", mix: Mix = CLEAN
) -> tuple[SimWorld, list[SimMessage]]:
    """``realistic_input`` with the world it leaves: the systems' records after their own
    changes, which then answer the bridge's commands (``systems_model``)."""
    world = SimWorld(seed)
    population = list(population_messages(world, size))
    return world, population + list(Workload(world, mix).messages(changes))


def in_phases(
    seed: int, changes: int, *, size: str = "small", mix: Mix = CLEAN_NO_CONTACT_CHANGES
) -> list[list[SimMessage]]:
    """``realistic_input`` as three phases a test feeds one after the other, each consumed
    before the next: the CSM population, the FSM/ITSM records that refer to it, the changes.

    Used with PostgreSQL, whose store cannot tell the order in which one batch applied events
    of different partitions; in phases, no event depends on another partition's timing.
    """
    return in_phases_world(seed, changes, size=size, mix=mix)[1]


def in_phases_world(
    seed: int, changes: int, *, size: str = "small", mix: Mix = CLEAN_NO_CONTACT_CHANGES
) -> tuple[SimWorld, list[list[SimMessage]]]:
    """``in_phases`` with the world it leaves (see ``realistic_world``)."""
    world = SimWorld(seed)
    population = list(population_messages(world, size))
    return world, [
        [m for m in population if m.source == "csm"],
        [m for m in population if m.source != "csm"],
        list(Workload(world, mix).messages(changes)),
    ]
