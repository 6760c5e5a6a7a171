"""The Alembic migrations build exactly the schema the code declares, on SQLite and PostgreSQL."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy.ext.asyncio import AsyncEngine

from bridge.store.engine import create_engine
from bridge.store.migrate import upgrade
from bridge.store.schema import metadata


async def _drift(engine: AsyncEngine) -> list[object]:
    async with engine.connect() as conn:
        return await conn.run_sync(
            lambda sync: compare_metadata(MigrationContext.configure(sync), metadata))


async def test_sqlite_store_at_head_matches_the_models(store_engine: AsyncEngine) -> None:
    assert await _drift(store_engine) == []


async def test_upgrade_is_idempotent_and_postgres_matches_the_models(postgres_database: str) -> None:
    await upgrade(postgres_database)
    await upgrade(postgres_database)  # a second start changes nothing
    engine = create_engine(postgres_database)
    try:
        assert await _drift(engine) == []
    finally:
        await engine.dispose()
