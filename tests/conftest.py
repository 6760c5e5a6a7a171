"""Shared fixtures: each area keeps its fixtures in ``tests/fixtures/<area>.py``."""

pytest_plugins = [
    "tests.fixtures.kafka",
    "tests.fixtures.store",
    "tests.fixtures.events",
    "tests.fixtures.postgres",
    "tests.e2e.broker_harness",
    "tests.fixtures.scenarios",
]
