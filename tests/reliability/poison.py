"""Poison messages of every data-error class, made from valid events of the simulated stream."""

from __future__ import annotations

import copy
import random
from dataclasses import dataclass

from bridgedev.simulate import SimMessage
from bridgedev.simulate.malformed import CORRUPTORS


@dataclass(frozen=True)
class Poison:
    message: SimMessage
    reason: str  # the reason code the bridge must report


def poisons_from(messages: list[SimMessage], seed: int) -> list[Poison]:
    """One broken copy per reason code the simulators know (invalid JSON, invalid UTF-8, not an
    object, missing field, wrong type, bad sys_id, bad reference, unknown source/table/operation/
    action, source mismatch), each made from a different valid event with references."""
    rng = random.Random(seed)
    models = [
        m for m in messages if m.event is not None and any(isinstance(v, dict) for v in m.event["record"].values())
    ]
    found = []
    for i, reason in enumerate(sorted(CORRUPTORS)):
        model = models[rng.randrange(len(models))]
        broken = copy.deepcopy(model.event)
        broken["event_id"] = f"poison-{seed}-{i}"
        raw = CORRUPTORS[reason](broken, rng)
        assert raw is not None, reason
        found.append(Poison(SimMessage(model.source, model.key, raw, f"malformed:{reason}"), reason))
    return found


def interleave(valid: list[SimMessage], poisons: list[Poison], seed: int) -> list[SimMessage]:
    """``valid`` with the poisons spread over the second half (after the population)."""
    rng = random.Random(seed)
    stream = list(valid)
    for poison in poisons:
        stream.insert(rng.randrange(len(valid) // 2, len(stream)), poison.message)
    return stream
