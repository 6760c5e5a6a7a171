"""Fixtures of the visibility tests: a fresh SQLite store as the bridge makes it (its
migrations); PostgreSQL, migrated likewise, owned by an ordinary (non-superuser) role with the
portal's row-level security installed."""

from __future__ import annotations

import shutil
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import asyncpg
import pytest
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine

from bridge.store.engine import create_engine
from bridge.store.migrate import upgrade
from bridge.visibility import install_rls
from tests.fixtures.postgres import fresh_database
from tests.visibility.harness import Store


@pytest.fixture(scope="session")
async def migrated_sqlite(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """An SQLite store the migrations made, once per session; each test gets a copy."""
    path = tmp_path_factory.mktemp("visibility-template") / "store.db"
    await upgrade(f"sqlite+aiosqlite:///{path}")
    return path


async def new_engine(template: Path, path: Path) -> AsyncEngine:
    """An engine on a fresh copy of the migrated store at ``path``."""
    for suffix in ("", "-wal"):  # a WAL not yet checkpointed holds part of the schema
        if template.with_name(template.name + suffix).exists():
            shutil.copyfile(template.with_name(template.name + suffix), path.with_name(path.name + suffix))
    return create_engine(f"sqlite+aiosqlite:///{path}")


@pytest.fixture
async def engine(migrated_sqlite: Path, tmp_path: Path) -> AsyncIterator[AsyncEngine]:
    engine = await new_engine(migrated_sqlite, tmp_path / "store.db")
    yield engine
    await engine.dispose()


@pytest.fixture
def store(engine: AsyncEngine) -> Store:
    return Store(engine)


@dataclass
class Postgres:
    owner: AsyncEngine  # the bridge's writer: owns the tables, not a superuser


@pytest.fixture(scope="module")
async def pg(postgres_url: str) -> AsyncIterator[Postgres]:
    owner_role = f"bridge_app_{uuid.uuid4().hex[:8]}"
    server = make_url(postgres_url)
    admin = await asyncpg.connect(
        host=server.host,
        port=server.port,
        user=server.username,
        password=server.password,
        database=server.database or "postgres",
    )
    await admin.execute(f"CREATE ROLE {owner_role} LOGIN CREATEROLE PASSWORD 'owner-pw'")
    try:
        async with fresh_database(postgres_url) as url:
            db = make_url(url)
            await admin.execute(f'ALTER DATABASE "{db.database}" OWNER TO {owner_role}')
            # PostgreSQL 15+: the database owner owns schema public (pg_database_owner).
            owner_url = db.set(username=owner_role, password="owner-pw").render_as_string(hide_password=False)
            await upgrade(owner_url)
            owner = create_engine(owner_url)
            async with owner.begin() as conn:
                await install_rls(conn)
                await install_rls(conn)  # idempotent
            yield Postgres(owner)
            await owner.dispose()
    finally:
        await admin.execute(f"DROP ROLE IF EXISTS {owner_role}")
        await admin.close()


@pytest.fixture
async def pg_store(pg: Postgres) -> Store:
    store = Store(pg.owner)
    await store.reset()
    return store
