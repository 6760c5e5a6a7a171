"""Schema migrations (Alembic), applied by ``bridge db upgrade`` and on start-up."""

from __future__ import annotations

import asyncio
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory

from bridge.store.engine import create_engine

MIGRATIONS = Path(__file__).with_name("migrations")


def alembic_config(url: str) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return config


async def upgrade(url: str, revision: str = "head") -> None:
    """Bring the store at ``url`` to ``revision`` (idempotent)."""
    await asyncio.to_thread(command.upgrade, alembic_config(url), revision)


def head_revision(url: str) -> str | None:
    """The newest migration this code knows."""
    return ScriptDirectory.from_config(alembic_config(url)).get_current_head()


async def current_revision(url: str) -> str | None:
    """The revision the store at ``url`` is at (None: never migrated). Reads only."""
    engine = create_engine(url, writer=False)
    try:
        async with engine.connect() as conn:
            return await conn.run_sync(lambda sync: MigrationContext.configure(sync).get_current_revision())
    finally:
        await engine.dispose()


def history(url: str) -> list[dict[str, str | None]]:
    """Every migration, newest first: revision, the one before, what it does (first line)."""
    script = ScriptDirectory.from_config(alembic_config(url))
    return [
        {
            "revision": rev.revision,
            "down_revision": rev.down_revision  # type: ignore[dict-item]
            if not isinstance(rev.down_revision, tuple)
            else ",".join(rev.down_revision),
            "description": (rev.doc or "").strip(),
        }
        for rev in script.walk_revisions()
    ]
