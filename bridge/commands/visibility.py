"""`bridge visibility` commands: what a portal user sees (work orders, a case's related records),
who sees a work order, rebuild, check."""

from __future__ import annotations

from typing import Annotated, Any

import typer
from rich.table import Table

from bridge.commands._output import JSON_OPTION, console, fail, output, print_json, reader, run
from bridge.settings import get_settings

app = typer.Typer(no_args_is_help=True)

MAX_SHOWN_DIFFERENCES = 50


@app.command("list")
def list_work_orders(
    user: Annotated[str, typer.Option("--user", help="sys_id of the contact or consumer.")],
    as_json: bool = JSON_OPTION,
) -> None:
    """The work orders a portal user may see, as the portal API returns them."""
    from bridge.visibility import visible_work_orders

    async def collect() -> list[dict[str, Any]]:
        rows, cursor = [], None
        async with reader() as conn:
            while True:
                page = await visible_work_orders(conn, user, limit=1000, cursor=cursor)
                rows += page.rows
                if (cursor := page.next_cursor) is None:
                    return rows

    def render(rows: list[dict[str, Any]]) -> None:
        table = Table("number", "state", "priority", "account", "case", "short description")
        for row in rows:
            table.add_row(
                row["number"],
                row["state"],
                row["priority"],
                row["account"]["name"],
                row["case"]["number"],
                row["short_description"],
            )
        console.print(table)
        console.print(f"{len(rows)} work order(s)")

    output(run(collect()), as_json, render)


@app.command()
def related(
    case: Annotated[str, typer.Argument(help="Case sys_id or number.")],
    user: Annotated[str, typer.Option("--user", help="sys_id of the contact or consumer.")],
    as_json: bool = JSON_OPTION,
) -> None:
    """A case's related records as the portal shows them to a user (exit 1 where it answers 404)."""
    from bridge.visibility import case_related_records, find_case_id

    async def collect() -> list[dict[str, Any]] | None:
        async with reader() as conn:
            sys_id = await find_case_id(conn, case)
            return None if sys_id is None else await case_related_records(conn, user, sys_id)

    rows = run(collect())
    if rows is None:
        fail("no such case in the visibility index, or the user may not see it")

    def render(rows: list[dict[str, Any]]) -> None:
        table = Table("table", "number", "state", "short description")
        for row in rows:
            table.add_row(row["table"], row["number"], row["state"], row["short_description"])
        console.print(table)
        console.print(f"{len(rows)} related record(s)")

    output(rows, as_json, render)


@app.command()
def who(
    work_order: Annotated[str, typer.Argument(help="Work order sys_id or number.")],
    as_json: bool = JSON_OPTION,
) -> None:
    """Which users see a work order, through which account and rule."""
    from bridge.visibility import find_work_order_id, who_sees

    async def collect() -> list[dict[str, Any]] | None:
        async with reader() as conn:
            sys_id = await find_work_order_id(conn, work_order)
            if sys_id is None:
                return None
            return [{"user": g.user_id, "account": g.account_id, "rule": g.rule} for g in await who_sees(conn, sys_id)]

    grants = run(collect())
    if grants is None:
        fail("no such work order in the visibility index")

    def render(rows: list[dict[str, Any]]) -> None:
        table = Table("user", "account", "rule")
        for row in rows:
            table.add_row(row["user"], row["account"] or "", row["rule"])
        console.print(table)

    output(grants, as_json, render)


def _difference(difference: Any) -> dict[str, Any]:
    return {
        "table": difference.table,
        "key": list(difference.key),
        "expected": None if difference.expected is None else list(difference.expected),
        "found": None if difference.actual is None else list(difference.actual),
    }


def _show_differences(differences: list[Any]) -> None:
    for difference in differences[:MAX_SHOWN_DIFFERENCES]:
        console.print(str(difference), markup=False, highlight=False)
    if len(differences) > MAX_SHOWN_DIFFERENCES:
        console.print(f"… and {len(differences) - MAX_SHOWN_DIFFERENCES} more (--json lists all)")


@app.command()
def rebuild(
    execute: bool = typer.Option(False, "--execute", help="Rebuild (default: preview what would change)."),
    as_json: bool = JSON_OPTION,
) -> None:
    """Recompute the whole index from the stored records (one transaction); preview unless
    --execute. Exit 1 when the rebuilt index still differs from the records."""
    from bridge.store.engine import store_engine
    from bridge.visibility import check as check_index
    from bridge.visibility import rebuild as rebuild_index

    async def preview() -> list[Any]:
        async with reader() as conn:
            return await check_index(conn)

    async def go() -> tuple[list[Any], list[Any]]:
        before = await preview()  # also: the store exists and is migrated, or one line
        engine = store_engine(get_settings().store)
        try:
            async with engine.begin() as conn:
                await rebuild_index(conn)
                return before, await check_index(conn)
        finally:
            await engine.dispose()

    before, after = run(go()) if execute else (run(preview()), [])
    data = {
        "executed": execute,
        "changes": len(before),
        "differences": [_difference(d) for d in before],
        "remaining": len(after),
    }
    if as_json:
        print_json(data)
    else:
        _show_differences(before)
        if not execute:
            console.print(f"{len(before)} row(s) of the index would change; preview only: run again with --execute")
        elif not after:
            console.print(f"visibility index rebuilt ({len(before)} row(s) changed)")
    if after:
        fail(f"the rebuilt index still differs from the records in {len(after)} row(s)")


@app.command()
def check(as_json: bool = JSON_OPTION) -> None:
    """Compare the index with one computed from the stored records; exit 1 on any difference."""
    from bridge.visibility import check as check_index

    async def go() -> list[Any]:
        async with reader() as conn:
            return await check_index(conn)

    differences = run(go())
    if as_json:
        print_json(
            {
                "consistent": not differences,
                "count": len(differences),
                "differences": [_difference(d) for d in differences],
            }
        )
    else:
        _show_differences(differences)
    if differences:
        if as_json:
            raise typer.Exit(1)
        fail(f"{len(differences)} difference(s) between the index and the records")
    if not as_json:
        console.print("visibility index consistent with the records")
