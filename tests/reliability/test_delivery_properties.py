"""F8: the real batch processor on a real SQLite store, fed the same events in other ways.

Reordered across independent records, duplicated, republished under new event ids, replayed
after a rewind, in random batches: the commands (ids and payloads) and the store (records,
links, visibility index, each event's outcome) equal the ordered single-delivery run's.
When later versions of a record overtake earlier ones, the store still ends at each record's
latest version and nothing is emitted that the ordered run did not emit.
"""

from __future__ import annotations

import asyncio
import random
import tempfile
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bridge.settings import TopicNames
from bridge.store.engine import create_engine
from bridge.visibility import check
from tests.reliability.deliveries import batches, causal_shuffle, swap_versions, with_redeliveries
from tests.reliability.oracle import RunResult, ordered_run, process_batches
from tests.reliability.workloads import realistic_input

TOPICS = TopicNames()
STREAM = realistic_input(seed=5, changes=150, size="tiny")
_ORACLE: list[RunResult] = []


def oracle() -> RunResult:
    if not _ORACLE:
        _ORACLE.append(asyncio.run(ordered_run(STREAM, TOPICS, Path(tempfile.mkdtemp()))))
    return _ORACLE[0]


def run(stream_batches: list) -> RunResult:
    workdir = Path(tempfile.mkdtemp(prefix="bridge-prop-"))
    return asyncio.run(process_batches(stream_batches, TOPICS, workdir, name="run"))


PROPERTY = settings(max_examples=25, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.too_slow])


@PROPERTY
@given(
    rng=st.randoms(use_true_random=False),
    copies=st.integers(0, 30),
    republishes=st.integers(0, 10),
    rewinds=st.integers(0, 3),
    largest=st.integers(1, 60),
)
def test_reordered_duplicated_and_replayed_delivery_gives_the_ordered_result(
    rng: random.Random, copies: int, republishes: int, rewinds: int, largest: int
) -> None:
    stream = with_redeliveries(
        causal_shuffle(STREAM, rng), rng, copies=copies, republishes=republishes, rewinds=rewinds
    )
    result = run(batches(stream, rng, largest))
    expected = oracle()
    assert result.commands == expected.commands
    assert result.store.differences(expected.store) == {}
    assert result.store.counters["events.in"] == len(stream)


@PROPERTY
@given(rng=st.randoms(use_true_random=False), swaps=st.integers(1, 20), largest=st.integers(1, 60))
def test_later_versions_overtaking_earlier_ones_leave_the_latest_state(
    rng: random.Random, swaps: int, largest: int
) -> None:
    stream = swap_versions(STREAM, rng, swaps)
    result = run(batches(stream, rng, largest))
    expected = oracle()
    assert result.store.tables["records"] == expected.store.tables["records"]
    assert result.commands.keys() <= expected.commands.keys()
    visibility = [name for name in expected.store.tables if name.startswith("vis_")]
    assert {n: result.store.tables[n] for n in visibility} == {n: expected.store.tables[n] for n in visibility}
    assert asyncio.run(_index_differences(result.url)) == []


async def _index_differences(url: str) -> list:
    """The incremental visibility index against one rebuilt from the stored records."""
    engine = create_engine(url, writer=False)
    try:
        async with engine.connect() as conn:
            return await check(conn)
    finally:
        await engine.dispose()
