"""`bridge dlq`: list, show, retry and purge dead letters."""

from __future__ import annotations

from typing import Any

import typer
from rich.table import Table

from bridge.commands._output import JSON_OPTION, console, fail, output, print_json, reader, require_store, run
from bridge.ops import dlq as ops
from bridge.ops.timespec import parse_time
from bridge.settings import get_settings
from bridge.store.engine import store_engine

app = typer.Typer(no_args_is_help=True)

#: A dead letter's life: new → retried (re-injected) or quarantined (replayed too often).
STATUSES = ("new", "retried", "quarantined")


def _time(value: str, option: str) -> Any:
    try:
        return parse_time(value)
    except ValueError as error:
        fail(f"{option}: {error}", code=2)


def _entries_table(rows: list[dict[str, Any]], title: str, action: bool = False) -> Table:
    table = Table(
        "id", "created", "reason", "stage", "status", "replays", "source", *(["action"] if action else []), title=title
    )
    for r in rows:
        table.add_row(
            r["id"],
            str(r["created_at"])[:19],
            r["reason_code"],
            r["stage"],
            r["status"],
            str(r["replay_count"]),
            f"{r['source_topic']}[{r['partition']}]@{r['offset']}",
            *([r["action"]] if action else []),
        )
    return table


@app.command("list")
def dlq_list(
    reason: str | None = typer.Option(None, "--reason", help="Only this reason code."),
    since: str | None = typer.Option(None, "--since", help="Created at or after (ISO 8601 or 2h, 1d)."),
    status: str | None = typer.Option(None, "--status", help="new | retried | quarantined"),
    as_json: bool = JSON_OPTION,
) -> None:
    """Dead letters, newest first (payloads only with `dlq show`)."""
    if status is not None and status not in STATUSES:
        fail(f"--status: '{status}' is not a status; expected one of {', '.join(STATUSES)}", code=2)

    async def go() -> list[dict[str, Any]]:
        async with reader() as conn:
            return await ops.list_dead_letters(
                conn, reason=reason, status=status, since=_time(since, "--since") if since else None
            )

    rows = run(go())
    output(rows, as_json, lambda r: console.print(_entries_table(r, f"{len(r)} dead letters")))


def _render_entry(entry: dict[str, Any]) -> None:
    for key in (
        "id",
        "created_at",
        "status",
        "replay_count",
        "stage",
        "reason_code",
        "error_class",
        "detail",
        "source_topic",
        "partition",
        "offset",
        "event_id",
        "sys_id",
        "mapping_version",
        "dlq_topic",
        "published_at",
    ):
        console.print(f"[bold]{key}[/bold]: {entry.get(key)}", highlight=False)
    console.print("[bold]headers[/bold]:")
    for name, value in sorted(entry["headers"].items()):
        console.print(f"  {name}: {value}", highlight=False)
    console.print(f"[bold]payload[/bold] ({entry['payload_encoding']}):")
    console.print(entry["payload"], markup=False, highlight=False)


@app.command("show")
def dlq_show(dl_id: str = typer.Argument(..., help="dead-letter id"), as_json: bool = JSON_OPTION) -> None:
    """One dead letter with its headers and its payload."""

    async def go() -> dict[str, Any]:
        async with reader() as conn:
            try:
                return await ops.show_dead_letter(conn, dl_id)
            except ops.DeadLetterNotFound:
                fail(f"no dead letter {dl_id!r}")
                raise

    output(run(go()), as_json, _render_entry)


@app.command("retry")
def dlq_retry(
    ids: list[str] = typer.Argument(None, help="dead-letter ids"),
    reason: str | None = typer.Option(None, "--reason", help="Every new entry of this reason."),
    all_new: bool = typer.Option(False, "--all", help="Every new entry."),
    max_replays: int = typer.Option(
        ops.DEFAULT_MAX_REPLAYS, "--max-replays", min=1, help="Quarantine entries replayed this often."
    ),
    execute: bool = typer.Option(False, "--execute", help="Do it (default: preview)."),
    as_json: bool = JSON_OPTION,
) -> None:
    """Re-inject dead letters into their original topic (after a fix); preview unless --execute."""
    if sum(bool(x) for x in (ids, reason, all_new)) != 1:
        fail("give dead-letter ids, or --reason, or --all", code=2)

    async def go() -> dict[str, Any]:
        async with reader() as conn:
            plan = ops.plan_retry(
                await ops.retry_candidates(conn, ids=ids or (), reason=reason, all_new=all_new), max_replays
            )
        if ids and len(plan) < len(set(ids)):
            fail("unknown dead-letter id(s): " + ", ".join(sorted(set(ids) - {p["id"] for p in plan})))
        result = {"executed": execute, "plan": plan, "retried": 0, "quarantined": 0, "skipped": 0}
        if execute:
            settings = get_settings()
            engine = store_engine(settings.store)
            try:
                result.update(await ops.execute_retry(engine, settings, plan))
            finally:
                await engine.dispose()
        return result

    def render(data: dict[str, Any]) -> None:
        console.print(_entries_table(data["plan"], "Retry plan", action=True))
        if data["executed"]:
            console.print(f"retried {data['retried']}, quarantined {data['quarantined']}, skipped {data['skipped']}")
        else:
            console.print("preview only: run again with --execute")

    output(run(go()), as_json, render)


@app.command("purge")
def dlq_purge(
    before: str = typer.Option(..., "--before", help="Created before (ISO 8601 or 30d)."),
    execute: bool = typer.Option(False, "--execute", help="Delete (default: count only)."),
    as_json: bool = JSON_OPTION,
) -> None:
    """Delete dead letters (and their payloads) created before a time; preview unless --execute."""
    moment = _time(before, "--before")

    async def go() -> int:
        if not execute:  # the preview only reads (and creates no store)
            async with reader() as conn:
                return await ops.count_before(conn, moment)
        settings = get_settings()
        await require_store(settings)
        engine = store_engine(settings.store)
        try:
            return await ops.purge(engine, moment, execute=True)
        finally:
            await engine.dispose()

    count = run(go())
    data = {"before": moment.isoformat(), "count": count, "executed": execute}
    if as_json:
        print_json(data)
    else:
        console.print(
            f"{'deleted' if execute else 'would delete'} {count} dead letters created before {moment.isoformat()}"
        )
