"""Compare a faulty run with the oracle, and keep the figures the issue asks to report."""

from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass, field
from typing import Any

from tests.reliability.fleet import Fleet, percentile
from tests.reliability.kafka_tools import Published
from tests.reliability.oracle import RunResult
from tests.reliability.snapshot import StoreSnapshot

#: When set, each scenario appends its figures (one JSON line) to this file.
FIGURES_ENV = "BRIDGE_FAULT_FIGURES"


@dataclass
class Verdict:
    scenario: str
    events: int
    commands_expected: int
    kills: int = 0
    lost: list[str] = field(default_factory=list)
    unexpected: list[str] = field(default_factory=list)
    changed: list[str] = field(default_factory=list)
    duplicate_deliveries: int = 0
    redelivered_events: int = 0
    recovery_p50_s: float = 0.0
    recovery_p99_s: float = 0.0
    store_differences: dict[str, Any] = field(default_factory=dict)
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def duplicate_effects(self) -> int:
        return len(self.unexpected) + len(self.changed)

    def assert_nothing_lost_nothing_doubled(self) -> None:
        assert not self.lost, f"{len(self.lost)} commands lost, e.g. {self.lost[:5]}"
        assert not self.unexpected, f"{len(self.unexpected)} unexpected commands: {self.unexpected[:5]}"
        assert not self.changed, f"{len(self.changed)} commands differ from the oracle: {self.changed[:5]}"
        assert not self.store_differences, f"store differs from the oracle: {self.store_differences}"

    def record(self) -> None:
        """Print the figures (shown with ``pytest -s``) and append them to $BRIDGE_FAULT_FIGURES."""
        figures = {
            k: v for k, v in asdict(self).items() if k not in ("lost", "unexpected", "changed", "store_differences")
        }
        figures.update(
            lost=len(self.lost), duplicate_effects=self.duplicate_effects, store_equal=not self.store_differences
        )
        print(f"\n[fault figures] {json.dumps(figures, sort_keys=True)}")
        path = os.environ.get(FIGURES_ENV)
        if path:
            with open(path, "a", encoding="utf-8") as out:
                out.write(json.dumps(figures, sort_keys=True) + "\n")


def judge(
    scenario: str,
    oracle: RunResult,
    published: Published,
    store: StoreSnapshot,
    *,
    events: int,
    fleet: Fleet | None = None,
) -> Verdict:
    """0 lost = every oracle id published; 0 duplicate effects = no other id, same payloads."""
    got = published.commands
    verdict = Verdict(scenario, events, len(oracle.commands))
    verdict.lost = sorted(oracle.commands.keys() - got.keys())
    verdict.unexpected = sorted(got.keys() - oracle.commands.keys())
    verdict.changed = sorted(
        cid for cid, copies in got.items() if cid in oracle.commands and set(copies) != {oracle.commands[cid]}
    )
    verdict.duplicate_deliveries = published.duplicate_deliveries
    verdict.redelivered_events = store.counters.get("events.duplicate", 0)
    verdict.store_differences = store.differences(oracle.store)
    if fleet is not None:
        recoveries = fleet.recovery_times()
        verdict.kills = sum(1 for life in fleet.lives if life.end in ("failpoint", "sigkill"))
        verdict.recovery_p50_s = round(percentile(recoveries, 0.5), 2)
        verdict.recovery_p99_s = round(percentile(recoveries, 0.99), 2)
    return verdict
