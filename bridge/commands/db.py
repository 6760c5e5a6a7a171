"""`bridge db` commands."""

from __future__ import annotations

import typer

from bridge.commands._output import console, run
from bridge.settings import get_settings
from bridge.store.migrate import upgrade

app = typer.Typer(no_args_is_help=True)


@app.command("upgrade")
def db_upgrade(revision: str = typer.Argument("head", help="target revision")) -> None:
    """Apply the store's migrations (also done on every start)."""
    run(upgrade(get_settings().store.url, revision))
    console.print(f"store at revision {revision}")
