"""Fixtures of the visibility tests: a fresh SQLite store with the index tables."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

import bridge.visibility.schema  # noqa: F401 - registers the index tables on ``metadata``
from bridge.store.engine import create_engine
from bridge.store.schema import metadata
from tests.visibility.harness import Store


async def new_engine(url: str) -> AsyncEngine:
    engine = create_engine(url)
    async with engine.begin() as conn:
        await conn.run_sync(metadata.create_all)
    return engine


@pytest.fixture
async def engine(tmp_path: Path) -> AsyncIterator[AsyncEngine]:
    engine = await new_engine(f"sqlite+aiosqlite:///{tmp_path / 'store.db'}")
    yield engine
    await engine.dispose()


@pytest.fixture
def store(engine: AsyncEngine) -> Store:
    return Store(engine)
