"""`bridge db`: the store's schema (upgrade, current, history), retention (prune) and backup."""

from __future__ import annotations

import sqlite3
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import typer
from rich.table import Table
from sqlalchemy.engine import make_url

from bridge.commands._output import JSON_OPTION, console, err_console, fail, output, run
from bridge.settings import get_settings
from bridge.store.batch_store import open_batch_store
from bridge.store.engine import is_sqlite, store_engine
from bridge.store.migrate import current_revision, head_revision, history, upgrade
from bridge.store.plan import run_sqlalchemy
from bridge.store.retention import Pruner, preview_plan

app = typer.Typer(no_args_is_help=True)


@app.command("upgrade")
def db_upgrade(revision: str = typer.Argument("head", help="target revision")) -> None:
    """Apply the store's migrations (also done on every start)."""
    run(upgrade(get_settings().store.url, revision))
    console.print(f"store at revision {revision}")


def _existing_store() -> str:
    """The store's URL; one line and exit 1 when it is an SQLite file that is not there (a
    read-only command never creates a store)."""
    url = get_settings().store.url
    if is_sqlite(url):
        path = make_url(url).database or ""
        if not path or path == ":memory:" or not Path(path).is_file():
            fail(f"no store at {path or '(none)'} (BRIDGE_STORE__URL): run `bridge db upgrade`")
    return url


@app.command("current")
def db_current(as_json: bool = JSON_OPTION) -> None:
    """The store's schema revision and the newest this bridge knows (exit 1 if behind)."""
    url = _existing_store()
    current, head = run(current_revision(url)), head_revision(url)
    data: dict[str, Any] = {"current": current, "head": head, "up_to_date": current == head}

    def render(d: dict[str, Any]) -> None:
        state = "up to date" if d["up_to_date"] else "behind: run `bridge db upgrade`"
        console.print(f"store at {d['current'] or '(never migrated)'}, head {d['head']} ({state})")

    output(data, as_json, render)
    if not data["up_to_date"]:
        raise typer.Exit(1)


@app.command("history")
def db_history(as_json: bool = JSON_OPTION) -> None:
    """Every migration, newest first; the store's current one marked when the store exists."""
    url = get_settings().store.url
    current = None
    if not is_sqlite(url) or Path(make_url(url).database or "").is_file():
        current = run(current_revision(url))
    rows = [{**row, "current": row["revision"] == current} for row in history(url)]

    def render(items: list[dict[str, Any]]) -> None:
        table = Table("revision", "after", "", "what it does", title="Migrations")
        for r in items:
            table.add_row(
                r["revision"],
                r["down_revision"] or "-",
                "current" if r["current"] else "",
                str(r["description"]).splitlines()[0] if r["description"] else "",
            )
        console.print(table)

    output(rows, as_json, render)


@app.command("prune")
def db_prune(
    dry_run: bool = typer.Option(False, "--dry-run", help="Only count (the default)."),
    execute: bool = typer.Option(False, "--execute", help="Delete, in small steps."),
    as_json: bool = JSON_OPTION,
) -> None:
    """Rows past their retention window (BRIDGE_RETENTION__*), per table; deleted with --execute."""
    if dry_run and execute:
        fail("give --dry-run or --execute, not both", code=2)
    url = _existing_store()
    settings = get_settings()
    now = datetime.now(timezone.utc)

    async def preview() -> list[dict[str, Any]]:
        engine = store_engine(settings.store, writer=False)
        try:
            async with engine.connect() as conn:
                return await run_sqlalchemy(conn, preview_plan(settings.retention, now))
        finally:
            await engine.dispose()

    async def prune() -> dict[str, int]:
        store = open_batch_store(settings.store)
        done: dict[str, int] = {}

        def progress(name: str, n: int) -> None:
            done[name] = done.get(name, 0) + n
            if n:
                err_console.print(f"{name}: {done[name]} deleted", highlight=False)

        try:
            return await Pruner(store, settings.retention).prune(now=now, on_step=progress)
        finally:
            await store.close()

    targets = run(preview())
    if execute:
        deleted = run(prune())
        for target in targets:
            target["deleted"] = deleted[target["target"]]
    data = {"executed": execute, "store": make_url(url).render_as_string(hide_password=True), "targets": targets}

    def render(d: dict[str, Any]) -> None:
        table = Table(
            "what",
            "table",
            "rows in table",
            "older than",
            "prunable",
            *(["deleted"] if execute else []),
            title="Retention",
        )
        for t in d["targets"]:
            table.add_row(
                t["target"],
                t["table"],
                str(t["rows"]),
                t["older_than"][:19],
                str(t["prunable"]),
                *([str(t["deleted"])] if execute else []),
            )
        console.print(table)
        if not execute:
            console.print("preview only: run again with --execute")

    output(data, as_json, render)


@app.command("backup")
def db_backup(
    file: Path = typer.Argument(..., help="where to write the copy (must not exist)"), as_json: bool = JSON_OPTION
) -> None:
    """A consistent copy of an SQLite store while the bridge runs (SQLite's online backup)."""
    url = get_settings().store.url
    if not is_sqlite(url):
        fail("backup is for SQLite stores: for PostgreSQL use pg_dump")
    _existing_store()
    source_path = make_url(url).database or ""
    if file.exists():
        fail(f"{file} exists: give a new file")
    if not file.parent.is_dir():
        fail(f"{file.parent} is not a folder")
    source = sqlite3.connect(source_path)  # reads only; the file is there (checked above)
    target = sqlite3.connect(file)
    try:
        err_console.print(f"backing up {source_path}…", highlight=False)
        # All pages in one step, one read transaction: in WAL mode the bridge goes on writing
        # meanwhile. (In several steps, every write of the bridge's between two steps would
        # make SQLite start the copy over: on a busy store it might never end.)
        source.backup(target, pages=-1)
    except sqlite3.Error as error:
        target.close()
        file.unlink(missing_ok=True)
        fail(f"backup of {source_path} failed: {error}")
    finally:
        source.close()
        target.close()
    data = {"source": source_path, "file": str(file), "bytes": file.stat().st_size}
    output(data, as_json, lambda d: console.print(f"backed up {d['source']} to {d['file']} ({d['bytes']} bytes)"))
