"""`bridge inspect` commands."""

from __future__ import annotations

from typing import Any

import typer
from rich.table import Table

from bridge.commands._output import JSON_OPTION, console, fail, output, reader, run
from bridge.ops import inspect as ops

app = typer.Typer(no_args_is_help=True)


def _history_tables(data: dict[str, Any]) -> None:
    events = Table("event", "operation", "mod", "outcome", "detail", "mapping", title="Events")
    for e in data["events"]:
        events.add_row(
            e["event_id"],
            e["action"] or e["operation"],
            str(e["sys_mod_count"]),
            e["outcome"],
            e["detail"] or "",
            e["mapping_version"] or "",
        )
    commands = Table("command", "target", "table", "rule", "mapping", "sent", title="Commands")
    for c in data["commands"]:
        commands.add_row(
            c["message_id"],
            c["target"] or c["kind"],
            c["target_table"] or "",
            c["rule"] or "",
            c["mapping_version"] or "",
            "yes" if c["sent_at"] else "pending",
        )
    console.print(events, commands)


def _render_case(data: dict[str, Any]) -> None:
    case = data["case"]
    console.print(f"[bold]{case['number']}[/bold] ({case['table']}) state {case['state']}")
    table = Table("work order", "state", "tasks", title="Work orders")
    for wo in data["work_orders"]:
        tasks = ", ".join(f"{t.get('number')} ({t.get('state')})" for t in wo.get("tasks", []))
        table.add_row(wo.get("number") or wo["sys_id"], str(wo.get("state", "?")), tasks)
    console.print(table)
    _history_tables(data)


def _render_work_order(data: dict[str, Any]) -> None:
    wo = data["work_order"]
    console.print(
        f"[bold]{wo['number']}[/bold] state {wo['state']}; cases: "
        + ", ".join(c.get("number") or c["sys_id"] for c in data["cases"])
    )
    _history_tables(data)


def _render_record(data: dict[str, Any]) -> None:
    record = data["record"]
    console.print(
        f"[bold]{record['number'] or record['sys_id']}[/bold] ({record['table']}) "
        f"state {record['state']}, version {record['sys_mod_count']}"
    )
    table = Table("link", "direction", "other record", title="Links")
    for link in data["links"]:
        table.add_row(link["kind"], link["direction"], link["other"])
    console.print(table)
    for letter in data["dead_letters"]:
        console.print(f"dead letter {letter['id']}: {letter['reason_code']} ({letter['status']})")
    _history_tables(data)


def _render_account(data: dict[str, Any]) -> None:
    account = data["account"]
    console.print(
        f"[bold]{account['number'] or account['sys_id']}[/bold] "
        f"children: {len(data['children'])}, related accounts: "
        f"{len(data['related_accounts'])}, contacts: {len(data['contacts'])}"
    )
    table = Table("work order", "state", title="Work orders (account or partner)")
    for wo in data["work_orders"]:
        table.add_row(wo["number"] or wo["sys_id"], wo["state"])
    console.print(table)
    _history_tables(data)


INSPECTORS = {
    "case": ops.inspect_case,
    "work-order": ops.inspect_work_order,
    "record": ops.inspect_record,
    "account": ops.inspect_account,
}


async def _inspect(kind: str, ident: str) -> dict[str, Any]:
    async with reader() as conn:
        try:
            return await INSPECTORS[kind](conn, ident)
        except ops.NotFound:
            fail(f"no {kind} with number or sys_id {ident!r} in the store")
            raise


@app.command("case")
def inspect_case(ident: str = typer.Argument(..., help="case number or sys_id"), as_json: bool = JSON_OPTION) -> None:
    """The case's work orders and tasks, events seen, commands emitted, events dropped."""
    output(run(_inspect("case", ident)), as_json, _render_case)


@app.command("work-order")
def inspect_work_order(
    ident: str = typer.Argument(..., help="work order number or sys_id"), as_json: bool = JSON_OPTION
) -> None:
    """The work order's case(s) and tasks, events seen and commands emitted."""
    output(run(_inspect("work-order", ident)), as_json, _render_work_order)


@app.command("record")
def inspect_record(
    ident: str = typer.Argument(..., help="any record's number or sys_id"), as_json: bool = JSON_OPTION
) -> None:
    """Any record: its latest state, links, events seen and dropped, commands, dead letters."""
    output(run(_inspect("record", ident)), as_json, _render_record)


@app.command("account")
def inspect_account(
    ident: str = typer.Argument(..., help="account number or sys_id"), as_json: bool = JSON_OPTION
) -> None:
    """An account: hierarchy, related accounts, contacts and roles, work orders."""
    output(run(_inspect("account", ident)), as_json, _render_account)
