"""Where each bridge run keeps its state: a copied SQLite template or a fresh PostgreSQL database."""

from __future__ import annotations

import contextlib
import uuid
from pathlib import Path
from typing import Any

import asyncpg
from sqlalchemy.engine import make_url

from bench.rules import mappings_with_extra_rules
from bench.store_seed import SqliteTemplates, seed
from bench.variants.launch import VariantSpec


class Stores:
    """Provides a store URL and a mappings folder for each bridge variant run."""

    def __init__(self, work_dir: Path, postgres_url: str | None) -> None:
        self.work_dir = work_dir
        self.templates = SqliteTemplates(work_dir)
        self.postgres_url = postgres_url
        self._mappings: dict[int, Path] = {}
        self._databases: list[str] = []

    async def store_for(self, spec: VariantSpec, run_name: str) -> str:
        if spec.backend == "postgres":
            if self.postgres_url is None:
                raise RuntimeError("no PostgreSQL server for the postgres variant")
            url = await self._create_database(run_name)
            await seed(url, spec.links)
            return url
        return await self.templates.copy(spec.links, run_name)

    def mappings_for(self, spec: VariantSpec) -> Path | None:
        if not spec.extra_rules:
            return None
        if spec.extra_rules not in self._mappings:
            self._mappings[spec.extra_rules] = mappings_with_extra_rules(
                self.work_dir / f"mappings-{spec.extra_rules}", spec.extra_rules
            )
        return self._mappings[spec.extra_rules]

    def discard(self, run_name: str) -> None:
        """Remove a finished run's SQLite file (large stores would fill the disk)."""
        for suffix in ("", "-wal", "-shm"):
            (self.work_dir / f"{run_name}.db{suffix}").unlink(missing_ok=True)

    async def _admin(self) -> Any:
        url = make_url(self.postgres_url or "")
        return await asyncpg.connect(
            host=url.host, port=url.port, user=url.username, password=url.password, database=url.database or "postgres"
        )

    async def _create_database(self, run_name: str) -> str:
        name = f"bench_{uuid.uuid4().hex[:10]}"
        admin = await self._admin()
        try:
            await admin.execute(f'CREATE DATABASE "{name}"')
        finally:
            await admin.close()
        self._databases.append(name)
        return make_url(self.postgres_url or "").set(database=name).render_as_string(hide_password=False)

    async def drop_databases(self) -> None:
        if not self._databases:
            return
        admin = await self._admin()
        try:
            for name in self._databases:
                with contextlib.suppress(Exception):
                    await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        finally:
            await admin.close()
