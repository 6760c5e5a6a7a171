"""`bridge replay`: re-process past events through the current mappings."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from bridge.commands._output import JSON_OPTION, console, err_console, fail, output, require_store, run
from bridge.ops import replay as ops
from bridge.ops.timespec import parse_time
from bridge.settings import get_settings

app = typer.Typer()


def _time(value: str | None, option: str) -> datetime | None:
    if value is None:
        return None
    try:
        return parse_time(value)
    except ValueError as error:
        fail(f"{option}: {error}", code=2)
        raise


def _render(data: dict[str, Any]) -> None:
    mode = "dry run: nothing was written or emitted" if data["dry_run"] else "executed"
    console.print(f"[bold]Replay[/bold] ({mode})")
    summary = Table("read", "applied", "skipped as duplicate", "dead-lettered", "commands", "emitted")
    summary.add_row(
        *(str(data[k]) for k in ("read", "applied", "skipped_duplicate", "dead_lettered", "commands", "emitted"))
    )
    console.print(summary)
    others = {k: v for k, v in data["outcomes"].items() if k not in ("applied", "duplicate", "dead_lettered")}
    if others:
        console.print("other outcomes: " + ", ".join(f"{k} {v}" for k, v in others.items()))
    if data["command_list"]:
        title = "Commands that would be emitted" if data["dry_run"] else "Commands emitted"
        table = Table("command", "target", "table", "target record", "rule", title=title)
        for c in data["command_list"][:200]:
            table.add_row(
                c["message_id"],
                c["target"] or "",
                c["target_table"] or "",
                c["target_sys_id"] or "(new)",
                c["rule"] or "",
            )
        console.print(table)


@app.callback(invoke_without_command=True)
def replay_command(
    topic: str = typer.Option(..., "--topic", help="Event topic to read."),
    from_offset: int | None = typer.Option(
        None, "--from-offset", min=0, help="Start at this offset (in each partition)."
    ),
    since: str | None = typer.Option(None, "--since", help="Start at this time (ISO 8601 or 2h, 1d)."),
    until: str | None = typer.Option(None, "--until", help="Stop before this time (default: now)."),
    partition: int | None = typer.Option(None, "--partition", min=0, help="Only this partition."),
    key: str | None = typer.Option(None, "--key", help="Only events of this record (sys_id)."),
    execute: bool = typer.Option(
        False, "--execute/--dry-run", help="Apply and emit (default: dry run, nothing written)."
    ),
    force_reprocess: bool = typer.Option(
        False, "--force-reprocess", help="Process events again although already applied."
    ),
    reason: str | None = typer.Option(None, "--reason", help="Why (required with --force-reprocess)."),
    as_json: bool = JSON_OPTION,
) -> None:
    """Re-process past events with the same idempotency rules (already applied → no effect)."""
    if (from_offset is None) == (since is None):
        fail("give exactly one of --from-offset and --since", code=2)
    if force_reprocess and not (reason and reason.strip()):
        fail("--force-reprocess needs --reason", code=2)
    request = ops.ReplayRequest(
        topic=topic,
        from_offset=from_offset,
        since=_time(since, "--since"),
        until=_time(until, "--until"),
        partition=partition,
        key=key,
        execute=execute,
        reprocess_reason=reason if force_reprocess else None,
    )
    with Progress(
        TextColumn("replay"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=err_console,
        transient=True,
        disable=as_json,
    ) as bar:
        task = bar.add_task("replay", total=None)

        def progress(done: int, total: int) -> None:
            bar.update(task, completed=done, total=total)

        settings = get_settings()
        run(require_store(settings))  # a replay, even a dry run, never creates a store
        try:
            summary = run(ops.replay(settings, request, progress))
        except ops.ReplayError as error:
            fail(str(error))
            raise
    output(summary.as_dict(), as_json, _render)
