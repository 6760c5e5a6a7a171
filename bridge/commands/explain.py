"""`bridge explain` commands."""

from __future__ import annotations

from typing import Any

import typer
from rich.table import Table

from bridge.commands._output import JSON_OPTION, console, fail, output, reader, run
from bridge.ops import explain as ops

app = typer.Typer(no_args_is_help=True)


def _label(item: dict[str, Any] | None) -> str:
    return (item.get("number") or item.get("sys_id", "")) if item else ""


def _render_case(data: dict[str, Any]) -> None:
    case = data["case"]
    console.print(
        f"[bold]{case['number']}[/bold] ({case['table']}) state {case['state']}"
        + (f", major case {case['major_case_state']}" if case["major_case_state"] else "")
    )
    if data["parent"]:
        console.print(f"child of {_label(data['parent'])}")
    if data["children"]:
        console.print("children: " + ", ".join(_label(c) for c in data["children"]))
    console.print(
        "related records: " + (", ".join(f"{r['relation']} {_label(r)}" for r in data["related_records"]) or "none")
    )
    table = Table("record", "mod", "note", "rule", "why", "via", "resolution", title="Related-record updates")
    for u in data["updates"]:
        resolution = u["resolution"] or {}
        table.add_row(
            u["record"]["number"] or u["record"]["sys_id"],
            str(u["sys_mod_count"]),
            "[green]sent[/green]" if u["delivered"] else "[yellow]not sent[/yellow]",
            u["rule"],
            u["why"],
            u["via"] or "",
            " ".join(filter(None, (resolution.get("outcome"), resolution.get("code")))),
        )
    console.print(table)


async def _explain(ident: str) -> dict[str, Any]:
    async with reader() as conn:
        try:
            return await ops.explain_case(conn, ident)
        except ops.NotFound:
            fail(f"no case with number or sys_id {ident!r} in the store")
            raise


@app.command("case")
def explain_case(ident: str = typer.Argument(..., help="case number or sys_id"), as_json: bool = JSON_OPTION) -> None:
    """For each related-record update: whether the case got its notes, and the rule that decided."""
    output(run(_explain(ident)), as_json, _render_case)
