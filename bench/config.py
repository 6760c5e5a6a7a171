"""What one benchmark run measures, and the two profiles (``--quick`` and full)."""

from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path

from bench.variants.launch import VariantSpec

RESULTS = Path(__file__).resolve().parent / "results"


@dataclass(frozen=True)
class BenchConfig:
    events: int = 30_000  # workload changes after the population's inserts
    size: str = "small"  # simulator population size
    seed: int = 7
    blocks: int = 2  # each block runs every variant; even blocks run in reverse (ABBA)
    links: tuple[int, int] = (10_000, 1_000_000)  # store sizes compared
    extra_rules: int = 1_000  # irrelevant table maps added for the rules variant
    latency_seconds: float = 20.0
    latency_min_outputs: int = 1000  # a latency run lasts until it measured about this many…
    latency_max_seconds: float = 90.0  # … or this long
    latency_fixed_rates: tuple[float, ...] = (100.0, 1000.0)  # besides half the bridge's max rate
    low_rate: float = 50.0  # a normal day: the bridge's CPU, and per batch (of about one event)
    low_rate_seconds: float = 30.0
    idle_seconds: float = 20.0  # nothing to do: what the bridge costs waiting
    postgres: bool = True
    bootstrap: str | None = None  # an existing broker; None starts a LocalKafka
    postgres_url: str | None = None  # an existing server (superuser URL); None starts one
    out_dir: Path = RESULTS
    run_timeout_s: float = 600.0

    def variants(self) -> list[VariantSpec]:
        small, large = self.links
        specs = [
            VariantSpec("b0", "b0"),
            VariantSpec("bridge_sqlite", "bridge", "sqlite", small),
            VariantSpec("bridge_sqlite_large_store", "bridge", "sqlite", large),
            VariantSpec("bridge_sqlite_extra_rules", "bridge", "sqlite", small, self.extra_rules),
            VariantSpec("b1", "b1"),
        ]
        if self.postgres:
            specs.insert(4, VariantSpec("bridge_postgres", "bridge", "postgres", small))
        return specs

    def schedule(self) -> list[tuple[int, VariantSpec]]:
        """(block, variant) in run order: B0, bridges…, B1, then the same reversed, and so on."""
        order: list[tuple[int, VariantSpec]] = []
        for block in range(self.blocks):
            specs = self.variants()
            order.extend((block, spec) for spec in (specs if block % 2 == 0 else reversed(specs)))
        return order


FULL = BenchConfig()
QUICK = replace(
    FULL,
    events=3_000,
    size="tiny",
    links=(1_000, 20_000),
    latency_seconds=6.0,
    latency_fixed_rates=(),
    latency_min_outputs=0,
    low_rate_seconds=8.0,
    idle_seconds=5.0,
)
