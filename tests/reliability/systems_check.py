"""After a real-broker run: the commands on the wire, answered by the simulated systems, against
the independent model (``systems_model``), plus the wire's keys, headers and order (``wire``).

The order in which the run applied events is read from its dedupe table (see
``oracle.application_order``); the model checks that order keeps every record's own order before
it replays the input in it.
"""

from __future__ import annotations

from collections.abc import Sequence

from bridge.settings import Settings
from bridgedev.simulate import SimMessage, SimWorld
from tests.reliability.oracle import application_order, event_id_of
from tests.reliability.systems_model import SystemsVerdict, judge_systems
from tests.reliability.wire import decided_order, for_systems, wire_commands, wire_problems


async def check_systems(
    settings: Settings, world: SimWorld, messages: Sequence[SimMessage], *, store_url: str | None = None
) -> SystemsVerdict:
    """What the systems hold after answering the published commands, and the wire itself."""
    url = store_url or settings.store.url
    wire = await wire_commands(settings)
    applied = [event_id_of(m) or "" for m in await application_order(url, messages)]
    verdict = judge_systems(world, messages, for_systems(wire, settings), applied)
    verdict.problems[:0] = wire_problems(wire, messages, await decided_order(url))
    return verdict
