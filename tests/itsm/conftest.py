"""``make_harness(**routing)``: the same scenario on the store and through the real broker."""

from __future__ import annotations

from contextlib import AsyncExitStack
from pathlib import Path
from typing import Any, AsyncIterator, Awaitable, Callable

import pytest

from tests.itsm.harness import ItsmHarness, mappings_with, write_mappings

MakeHarness = Callable[..., Awaitable[Any]]


@pytest.fixture
async def store_factory(store_engine: Any) -> MakeHarness:
    async def make(**routing: Any) -> ItsmHarness:
        return ItsmHarness(store_engine, mappings=mappings_with(**routing) if routing else None)

    return make


@pytest.fixture
async def kafka_factory(bridge_settings: Any, tmp_path: Path) -> AsyncIterator[MakeHarness]:
    from tests.e2e.broker_harness import BrokerHarness

    async with AsyncExitStack() as stack:

        async def make(**routing: Any) -> BrokerHarness:
            settings = bridge_settings
            if routing:
                folder = write_mappings(tmp_path / "mappings", **routing)
                settings = bridge_settings.model_copy(update={"mappings_dir": folder})
            harness = await BrokerHarness(settings).start()
            stack.push_async_callback(harness.close)
            return harness

        yield make


@pytest.fixture(params=["store", pytest.param("kafka", marks=pytest.mark.kafka)])
def make_harness(request: pytest.FixtureRequest) -> MakeHarness:
    return request.getfixturevalue(f"{request.param}_factory")
