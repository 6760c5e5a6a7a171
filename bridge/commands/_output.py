"""Shared CLI plumbing: JSON or rich output, async entry, store access."""

from __future__ import annotations

import asyncio
import json
from contextlib import asynccontextmanager
from typing import Any, AsyncIterator, Awaitable, Callable, TypeVar

import typer
from rich.console import Console

from bridge.settings import Settings, get_settings

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


@asynccontextmanager
async def reader(settings: Settings | None = None) -> AsyncIterator[Any]:
    """A read-only store connection (never takes SQLite's write lock)."""
    from bridge.store.engine import store_engine

    settings = settings or get_settings()
    engine = store_engine(settings.store, writer=False)
    try:
        async with engine.connect() as conn:
            yield conn
    finally:
        await engine.dispose()


def fail(message: str, code: int = 1) -> None:
    err_console.print(f"[red]error:[/red] {message}")
    raise typer.Exit(code)
