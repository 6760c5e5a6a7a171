"""`bridge status`: lag, outbox backlog, dead letters, mappings, stalls, last error.

Exits 0 when all is well, 1 when degraded (the bridge answers but is not ready: a stalled
partition, a store that cannot be written; or the mapping folder is invalid), 2 when down (the
broker, the store or the bridge cannot be reached). ``bridge.ops.status.assess`` decides.
"""

from __future__ import annotations

from typing import Any

import typer
from rich.table import Table

from bridge.commands._output import JSON_OPTION, console, output, reader, run
from bridge.ops import status as ops
from bridge.settings import get_settings

app = typer.Typer()


async def _collect() -> dict[str, Any]:
    from bridge.mapping import MappingValidationError, load_mapping_set

    settings = get_settings()
    data: dict[str, Any] = {"group_id": settings.consumer.group_id}
    try:
        data["lag"] = await ops.consumer_lag(settings)
        data["lag_error"] = None
    except Exception as error:  # noqa: BLE001 - the store part is still worth showing
        data["lag"], data["lag_error"] = None, type(error).__name__
    data.update(outbox_backlog=None, dead_letters=[], counters={}, store_error=None)
    try:
        async with reader(settings) as conn:
            data["outbox_backlog"] = await ops.outbox_backlog(conn)
            data["dead_letters"] = await ops.dead_letter_counts(conn)
            data["counters"] = await ops.event_counters(conn)
    except Exception as error:  # noqa: BLE001 - the broker and the bridge are still worth showing
        data["store_error"] = type(error).__name__
    try:
        mapping_set = load_mapping_set(settings.mappings_dir)
        folder = {"version": mapping_set.version, "content_hash": mapping_set.content_hash}
    except MappingValidationError as error:
        folder = {"error": f"{len(error.diagnostics)} validation error(s)"}
    running = ops.running_bridge(settings)
    active = (running or {}).get("checks", {}).get("mappings") if running else None
    data["mappings"] = {
        "folder": folder,
        "running": active,
        "matches_running": (active.get("content_hash") == folder.get("content_hash")) if active else None,
    }
    data["bridge"] = {
        "reachable": running is not None,
        "ready": running.get("ready") if running else None,
        "last_error": running.get("last_error") if running else None,
    }
    checks = running.get("checks") if running else None
    data["stalled"] = ((checks or {}).get("partitions") or {}).get("stalled", [])
    store_writes = (checks or {}).get("store_writes") or {}
    data["store_writes"] = None if store_writes.get("ok", True) else store_writes
    data["state"], data["problems"] = ops.assess(data, checks)
    return data


def _render(data: dict[str, Any]) -> None:
    colour = {ops.OK: "green", ops.DEGRADED: "yellow", ops.DOWN: "red"}[data["state"]]
    console.print(f"[bold {colour}]{data['state'].upper()}[/bold {colour}]")
    for problem in data["problems"]:
        console.print(f"  - {problem}", markup=False)
    bridge = data["bridge"]
    state = "not reachable" if not bridge["reachable"] else "ready" if bridge["ready"] else "NOT ready"
    console.print(f"[bold]bridge[/bold]: {state}; last error: {bridge['last_error'] or 'none'}")
    if data["stalled"]:
        stalled = Table(
            "topic",
            "partition",
            "lag",
            "committed",
            "not moving for (s)",
            "last error",
            title="Stalled partitions (see README: a stalled partition)",
        )
        for p in data["stalled"]:
            error = (p.get("last_error") or {}).get("error_class", "-")
            stalled.add_row(
                p["topic"],
                str(p["partition"]),
                str(p["lag"]),
                "-" if p["committed"] is None else str(p["committed"]),
                str(p["stalled_for_s"]),
                error,
            )
        console.print(stalled)
    m = data["mappings"]
    folder = m["folder"].get("version") or m["folder"].get("error")
    running = m["running"]["version"] if m["running"] else "unknown"
    console.print(
        f"[bold]mappings[/bold]: folder {folder}, running {running}"
        + ("" if m["matches_running"] is None else " (same)" if m["matches_running"] else " (DIFFERENT)")
    )
    if data["store_error"]:
        console.print(f"[bold]store[/bold]: not readable ({data['store_error']})")
    console.print(f"[bold]outbox backlog[/bold]: {data['outbox_backlog']}")
    if data["lag"] is None:
        console.print(f"[bold]consumer lag[/bold]: unknown ({data['lag_error']})")
    else:
        lag = Table(
            "topic",
            "partition",
            "committed",
            "end",
            "lag",
            title=f"Consumer lag, group {data['group_id']} (total {sum(p['lag'] for p in data['lag'])})",
        )
        for p in data["lag"]:
            lag.add_row(
                p["topic"],
                str(p["partition"]),
                "-" if p["committed"] is None else str(p["committed"]),
                str(p["end_offset"]),
                str(p["lag"]),
            )
        console.print(lag)
    dead = Table("reason", "status", "count", title="Dead letters")
    for d in data["dead_letters"]:
        dead.add_row(d["reason"], d["status"], str(d["count"]))
    console.print(dead)
    counters = Table("counter", "value", title="Counters")
    for name, value in data["counters"].items():
        counters.add_row(name, str(value))
    console.print(counters)


@app.callback(invoke_without_command=True)
def status_command(as_json: bool = JSON_OPTION) -> None:
    """Consumer lag per partition, outbox backlog, dead letters, mappings, stalls, last error.
    Exit code: 0 all well, 1 degraded, 2 down."""
    data = run(_collect())
    output(data, as_json, _render)
    raise typer.Exit(ops.EXIT_CODES[data["state"]])
