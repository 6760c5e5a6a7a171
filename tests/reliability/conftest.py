"""Fixtures of the fault tests: a fleet of bridge processes that is always cleaned up."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from tests.reliability.fleet import Fleet
from tests.reliability.postgres_server import stoppable_postgres  # noqa: F401 - a fixture

#: Fast failure detection for tests: the broker's minimum session timeout.
FAST_GROUP = {"BRIDGE_CONSUMER__SESSION_TIMEOUT_MS": "6000", "BRIDGE_CONSUMER__MAX_POLL_INTERVAL_MS": "60000"}


@pytest.fixture
async def fleet(bridge_env: dict[str, str], tmp_path: Path) -> AsyncIterator[Fleet]:
    """Bridge processes on the test's topics and SQLite store; SIGTERMed (then killed) after."""
    crew = Fleet({**bridge_env, **FAST_GROUP}, tmp_path)
    yield crew
    await crew.stop_all()
