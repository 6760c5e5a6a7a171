"""A major case's acceptance is recognised whatever order its changes arrive in (issue 21, item 6).

The contract orders no two records: the candidate's update may arrive before the new major case's
insert, and CSM may clear ``major_case_state`` and set ``parent`` in separate updates (in either
order). Every interleaving of the candidate's events with the major case's must end the same:
one copy of the candidate's related fields the major case lacks, sent once, and the child's
``create_*`` actions refused as read-only. An ordinary case added as a child (never a candidate)
keeps its own records in every order.
"""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass
from typing import Any, Iterator

import pytest

from tests.fixtures.events import new_sys_id, ref
from tests.itsm.events import action, case, case_update, itsm
from tests.itsm.harness import ItsmHarness, notes

Event = dict[str, Any]
_numbers = itertools.count(1)


@dataclass
class Scenario:
    """One candidate ``k`` (holding an incident and a problem) and the major case ``m`` it is
    accepted into (holding a problem of its own, no incident)."""

    k_id: str
    m_id: str
    inc: str
    prb: str
    m_prb: str
    m_number: str

    @classmethod
    def new(cls) -> "Scenario":
        return cls(new_sys_id(), new_sys_id(), new_sys_id(), new_sys_id(), new_sys_id(), f"CS09{next(_numbers):05d}")

    @property
    def parent(self) -> dict[str, str]:
        return ref(self.m_id, self.m_number)  # CSM's reference names the major case's number

    def candidate(self, steps: str) -> list[Event]:
        """The candidate's events, in its own order: ``i`` insert (holding an incident and a
        problem), ``p`` proposed, ``P`` inserted already proposed, ``j`` parent set (joined),
        ``c`` major_case_state cleared, ``b`` both at once, ``r`` rejected."""
        events: list[Event] = []
        for step in steps:
            if step in "iP":
                events.append(
                    case(
                        self.k_id,
                        0,
                        incident=self.inc,
                        problem=self.prb,
                        major_case_state="proposed" if step == "P" else "",
                    )
                )
                continue
            fields: dict[str, Any] = {
                "p": {"major_case_state": "proposed"},
                "j": {"parent": self.parent},
                "c": {"major_case_state": ""},
                "b": {"parent": self.parent, "major_case_state": ""},
                "r": {"major_case_state": "rejected"},
            }[step]
            events.append(case_update(events[-1], **fields))
        return events

    def major(self, steps: str) -> list[Event]:
        """The major case's events: ``a`` inserted accepted, or ``n`` inserted as an ordinary
        case then ``A`` accepted."""
        events: list[Event] = []
        for step in steps:
            if step in "an":
                events.append(
                    case(
                        self.m_id,
                        0,
                        number=self.m_number,
                        account="",
                        contact="",
                        problem=self.m_prb,
                        major_case_state="accepted" if step == "a" else "",
                    )
                )
            else:
                events.append(case_update(events[-1], major_case_state="accepted"))
        return events


def interleavings(first: int, second: int) -> Iterator[list[tuple[int, int]]]:
    """Every merge of two event streams of these lengths that keeps each one's own order, as
    (stream, index) pairs."""
    for slots in itertools.combinations(range(first + second), second):
        taken = [0, 0]
        order = []
        for position in range(first + second):
            stream = 1 if position in slots else 0
            order.append((stream, taken[stream]))
            taken[stream] += 1
        yield order


async def feed(h: ItsmHarness, events: list[Event], one_batch: bool) -> list[Event]:
    if one_batch:
        return await h.run(*events)
    commands = []
    for event in events:
        commands += await h.run(event)
    return commands


async def assert_accepted(h: ItsmHarness, s: Scenario, commands: list[Event], last_k: Event) -> None:
    """One copy of the candidate's incident to the major case; the child is read-only; the
    shared incident's news go to the major case."""
    assert [(c["target"], c["table"], c["sys_id"], c["operation"], c["fields"], c["journal"]) for c in commands] == [
        ("csm", "sn_customerservice_case", s.m_id, "update", {"incident": s.inc}, [])
    ]
    refused = notes(await h.run(action(last_k, "create_change", type="normal")))
    assert refused == [
        (
            s.k_id,
            f"The bridge did not run 'create_change': the case is a child "
            f"of major case {s.m_number}: its related records are "
            "read-only",
        )
    ]
    update = itsm("incident", s.inc, 2, changed=("state",), state="2")
    assert sorted(case_id for case_id, _ in notes(await h.run(update))) == [s.m_id]


CANDIDATE_ORDERS = {
    "proposed, joined, cleared": "ipjc",
    "proposed, cleared, joined": "ipcj",
    "proposed, joined and cleared at once": "ipb",
    "inserted proposed, cleared, joined": "Pcj",
}
MAJOR_ORDERS = {"inserted accepted": "a", "inserted, then accepted": "nA"}


@pytest.mark.parametrize("one_batch", [False, True], ids=["batch per event", "one batch"])
@pytest.mark.parametrize("major_steps", list(MAJOR_ORDERS.values()), ids=list(MAJOR_ORDERS))
@pytest.mark.parametrize("candidate_steps", list(CANDIDATE_ORDERS.values()), ids=list(CANDIDATE_ORDERS))
async def test_acceptance_in_every_order(
    store_harness: ItsmHarness, candidate_steps: str, major_steps: str, one_batch: bool
) -> None:
    h = store_harness
    orders = list(interleavings(len(candidate_steps), len(major_steps)))
    assert len(orders) == math.comb(len(candidate_steps) + len(major_steps), len(major_steps))
    for order in orders:
        s = Scenario.new()  # records of its own for each order, on the same store
        streams = (s.candidate(candidate_steps), s.major(major_steps))
        events = [streams[stream][i] for stream, i in order]
        await assert_accepted(h, s, await feed(h, events, one_batch), streams[0][-1])


async def test_the_candidate_joins_before_the_major_case_exists_for_the_bridge(make_harness: Any) -> None:
    """On the real broker too: the candidate is proposed, its state cleared, then its ``parent``
    set, all before the new major case's insert arrives. It is read-only from the moment it
    joined; the copy goes out when the major case arrives, once."""
    h = await make_harness()
    s = Scenario.new()
    proposed, cleared, joined = s.candidate("ipcj")[1:]
    await h.run(s.candidate("i")[0])
    for event in (proposed, cleared, joined):
        assert await h.run(event) == []
    refused = notes(await h.run(action(joined, "create_incident")))
    assert refused == [
        (
            s.k_id,
            f"The bridge did not run 'create_incident': the case is a child "
            f"of major case {s.m_number}: its related records are "
            "read-only",
        )
    ]
    [copy] = await h.run(*s.major("a"))
    assert (copy["table"], copy["sys_id"], copy["fields"]) == ("sn_customerservice_case", s.m_id, {"incident": s.inc})
    # CSM's echo of the copy and later changes of either case copy nothing again
    echo = case_update(s.major("a")[0], incident=s.inc)
    echo["caused_by_command"] = copy["command_id"]
    assert await h.run(echo) == []
    assert await h.run(case_update(joined, priority="1")) == []
    await assert_accepted(h, s, [copy], case_update(joined, priority="1"))


ORDINARY_ORDERS = {"joined": "ij", "proposed then rejected, joined": "iprj"}


@pytest.mark.parametrize("candidate_steps", list(ORDINARY_ORDERS.values()), ids=list(ORDINARY_ORDERS))
async def test_an_ordinary_case_added_as_child_keeps_its_records_in_every_order(
    store_harness: ItsmHarness, candidate_steps: str
) -> None:
    h = store_harness
    for order in interleavings(len(candidate_steps), 1):
        s = Scenario.new()
        streams = (s.candidate(candidate_steps), s.major("a"))
        assert await feed(h, [streams[stream][i] for stream, i in order], False) == []
        [created] = await h.run(action(streams[0][-1], "create_change", type="normal"))
        assert created["table"] == "change_request"  # not read-only
        update = itsm("incident", s.inc, 2, changed=("state",), state="2")
        assert [case_id for case_id, _ in notes(await h.run(update))] == [s.k_id]


async def test_a_candidate_that_leaves_its_major_case_is_no_longer_read_only(store_harness: ItsmHarness) -> None:
    h = store_harness
    s = Scenario.new()
    events = [*s.candidate("ipb"), *s.major("a")]
    [copy] = await feed(h, events, False)
    left = case_update(events[2], parent="")
    assert await h.run(left) == []
    [created] = await h.run(action(left, "create_change", type="normal"))
    assert created["table"] == "change_request"
