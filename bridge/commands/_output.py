"""Shared CLI plumbing: JSON or rich output, async entry, store access."""

from __future__ import annotations

import asyncio
import json
from contextlib import asynccontextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any, AsyncIterator, Awaitable, Callable, NoReturn, TypeVar
from urllib.parse import quote

import typer
from rich.console import Console

from bridge.commands._errors import CommandError, first_line
from bridge.settings import Settings, StoreSettings, get_settings

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncEngine

T = TypeVar("T")
console = Console()
err_console = Console(stderr=True)

JSON_OPTION = typer.Option(False, "--json", help="Print machine-readable JSON.")


def run(coro: Awaitable[T]) -> T:
    return asyncio.run(coro)  # type: ignore[arg-type]


def print_json(data: Any) -> None:
    typer.echo(json.dumps(data, indent=2, sort_keys=True, default=str))


def output(data: Any, as_json: bool, render: Callable[[Any], None]) -> None:
    print_json(data) if as_json else render(data)


#: A table every store has from its first migration on: without it, the store was never migrated.
SCHEMA_MARKER = "records"


@asynccontextmanager
async def reader(settings: Settings | None = None) -> AsyncIterator[Any]:
    """A read-only connection to an existing, migrated store.

    It never creates a store: a SQLite file is opened read-only (``mode=ro``; so it never
    takes the write lock either), and a missing file, a store that cannot be reached or one
    that was never migrated is a :class:`CommandError` naming ``BRIDGE_STORE__URL``.
    """
    settings = settings or get_settings()
    engine = read_only_engine(settings.store)
    try:
        try:
            conn = await engine.connect()
        except Exception as error:  # noqa: BLE001 - any failure to connect: the store's line
            raise CommandError(
                f"cannot open the store at {settings.store.url} (BRIDGE_STORE__URL): "
                f"{type(error).__name__}: {first_line(error)}"
            ) from error
        try:
            if not await conn.run_sync(lambda sync: sync.dialect.has_table(sync, SCHEMA_MARKER)):
                raise CommandError(
                    f"the store at {settings.store.url} (BRIDGE_STORE__URL) was never "
                    "migrated: run `bridge db upgrade` (or start the bridge) first"
                )
            yield conn
        finally:
            await conn.close()
    finally:
        await engine.dispose()


async def require_store(settings: Settings | None = None) -> None:
    """Fail with the store's line unless it exists and is migrated (before work that would
    otherwise create it)."""
    async with reader(settings):
        pass


def sqlite_file(url: str) -> Path | None:
    """The file of a SQLite store URL (None for another database)."""
    from sqlalchemy.engine import make_url

    parsed = make_url(url)
    return Path(parsed.database) if parsed.get_backend_name() == "sqlite" and parsed.database else None


def read_only_engine(store: StoreSettings) -> "AsyncEngine":
    """An engine that reads the store and cannot create or change it."""
    from sqlalchemy import event
    from sqlalchemy.ext.asyncio import create_async_engine

    from bridge.store.engine import store_engine
    from connectors.common import jsoncodec

    path = sqlite_file(store.url)
    if path is None:
        return store_engine(store, writer=False)
    if not path.is_file():
        raise CommandError(
            f"no store at {path} (BRIDGE_STORE__URL={store.url}): run `bridge db upgrade` "
            "or start the bridge to create it"
        )
    engine = create_async_engine(
        f"sqlite+aiosqlite:///file:{quote(str(path.resolve()))}?mode=ro&uri=true",
        connect_args={"timeout": store.busy_timeout_ms / 1000},
        json_serializer=jsoncodec.dumps,
        json_deserializer=jsoncodec.loads,
    )

    @event.listens_for(engine.sync_engine, "connect")
    def _configure(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None  # BEGIN is ours: one snapshot per transaction
        cursor = dbapi_connection.cursor()
        cursor.execute(f"PRAGMA busy_timeout={int(store.busy_timeout_ms)}")
        cursor.execute("PRAGMA query_only=ON")
        cursor.close()

    @event.listens_for(engine.sync_engine, "begin")
    def _begin(conn: Any) -> None:
        conn.exec_driver_sql("BEGIN")

    return engine


def fail(message: str, code: int = 1) -> NoReturn:
    """End the command with one line on stderr (never wrapped: scripts grep it)."""
    typer.echo(f"error: {message}", err=True)
    raise typer.Exit(code)
