"""Deterministic inputs for the fault tests, from the simulators (no live responders).

The input is fixed before the bridge starts, so that a faulty run and the oracle's ordered run
see exactly the same events: nothing comes back from the systems while the bridge runs.
"""

from __future__ import annotations

import random

from bridgedev.simulate import MIXES, Mix, SimMessage, SimWorld, Workload, population_messages
from bridgedev.simulate.messages import message_of

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


#: ITSM lifecycles and case changes only: the updates that give notes on cases, and the case
#: states (resolved, closed) that decide whether a suggestion is written.
ITSM_NEWS = Mix(
    {"itsm_lifecycle": 60, "case_update": 30, "create_incident": 5, "create_request": 5},
    duplicate_share=0.0,
    malformed_share=0.0,
)
_LINK_FIELDS = {"incident": ("incident",), "problem": ("problem",), "change_request": ("change", "caused_by")}


def linked_world(
    seed: int, changes: int, *, size: str = "small", rounds: int = 20, mix: Mix = ITSM_NEWS
) -> tuple[SimWorld, list[SimMessage]]:
    """``linked_phases`` as one input."""
    world, phases = linked_phases(seed, changes, size=size, rounds=rounds, mix=mix)
    return world, [m for phase in phases for m in phase]


def linked_phases(
    seed: int, changes: int, *, size: str = "small", rounds: int = 20, mix: Mix = ITSM_NEWS
) -> tuple[SimWorld, list[list[SimMessage]]]:
    """A populated world whose cases hold its ITSM records (as agents link them in CSM: the
    case's ``incident``, ``problem``, ``change`` or ``caused_by``, a request's ``parent``), then
    ``changes`` of ``mix`` (ITSM lifecycle steps and case changes), in ``rounds``: before each,
    the records ITSM started since are linked too. Every major case shares an incident with its
    first child (the major case's news) and its second child holds an incident of its own (the
    child's news only): the routing rules' cases. The fixed workloads link nothing, as the
    systems' answers to ``create_*`` never come back during a fault run.

    Phases alternate: links (the population first), changes. The links live on CSM's topic and
    the lifecycle steps on ITSM's, so on a broker a test that wants the links known before the
    steps feeds the phases one after the other."""
    world = SimWorld(seed)
    phases = [list(population_messages(world, size))]
    rng = random.Random(seed)
    workload = Workload(world, mix)
    ordinary = [c for c in world.index.cases if c not in world.index.major_cases]
    linked: set[str] = set()
    for round_ in range(rounds):
        records = {
            t: sorted(set(world.active[t]) - linked) for t in ("incident", "problem", "change_request", "sc_request")
        }
        linked.update(*records.values())
        links: list[tuple[str, str, str]] = []  # (case, field or a request's "parent", value)
        for major in world.index.major_cases if round_ == 0 else []:
            children = [c for c in world.index.cases if world.store.get(c, "parent") == major]
            if records["incident"]:
                shared = records["incident"].pop()
                links += [(case, "incident", shared) for case in [major, *children[:1]]]
            if len(children) > 1 and records["incident"]:
                links.append((children[1], "incident", records["incident"].pop()))
        for table, ids in records.items():
            for record in ids:
                case = rng.choice(ordinary)
                if table == "sc_request":
                    links.append((record, "parent", case))
                else:
                    links.append((case, rng.choice(_LINK_FIELDS[table]), record))
        if round_:
            phases.append([])
        for sys_id, name, value in links:
            event = world.events.update(sys_id, {name: value}, by="agent")
            if event is not None:
                phases[-1].append(message_of(event, "link"))
        phases.append(list(workload.messages(changes // rounds)))
    return world, phases
