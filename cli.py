"""The ``bridge`` command line: one sub-app per file in ``bridge/commands/``, and, in a
development install, the development tools' commands (``bridgedev/commands/``)."""

from __future__ import annotations

from importlib.metadata import PackageNotFoundError, version

import typer

from bridge.commands import (
    db,
    dlq,
    explain,
    inspect,
    mappings,
    replay,
    run,
    status,
    topics,
    visibility,
)
from bridge.commands._errors import BridgeGroup, quiet_client_libraries
from bridge.commands.run import warn_or_refuse_unknown_variables

app = typer.Typer(
    name="bridge",
    help="CSM ↔ FSM ↔ ITSM bridge over Kafka.",
    no_args_is_help=True,
    pretty_exceptions_show_locals=False,
    rich_markup_mode="rich",
    cls=BridgeGroup,
    epilog="Exit codes: 0 done, 1 failed (store, broker, files, data), 2 wrong usage or "
    "configuration. `bridge status` has its own: see its help.",
)


def _print_version(wanted: bool) -> None:
    if wanted:
        try:
            typer.echo(f"bridge {version('csm-fsm-bridge')}")
        except PackageNotFoundError:  # run from a checkout that was never installed
            typer.echo("bridge (not installed: version unknown)")
        raise typer.Exit()


@app.callback()
def main(
    ctx: typer.Context,
    debug: bool = typer.Option(False, "--debug", help="Show a failure's traceback instead of one line."),
    show_version: bool = typer.Option(
        False, "--version", callback=_print_version, is_eager=True, help="Print the version and exit."
    ),
) -> None:
    """CSM ↔ FSM ↔ ITSM bridge over Kafka."""
    # `config` reports unknown variables as errors itself; `run` logs them once logging is set.
    if ctx.invoked_subcommand not in ("config", "run"):
        warn_or_refuse_unknown_variables()
    if not debug and ctx.invoked_subcommand not in ("run", "demo"):
        quiet_client_libraries()


app.command("run")(run.run_command)
app.add_typer(run.config_app, name="config", help="Show and check the effective configuration.")
app.add_typer(topics.app, name="topics", help="Create and list the bridge's topics.")
app.add_typer(db.app, name="db", help="Manage the store's schema.")
app.add_typer(mappings.app, name="mappings", help="Validate, test and dry-run the mapping YAML.")
app.add_typer(explain.app, name="explain", help="Why a case did or did not get each related-record note.")
app.add_typer(inspect.app, name="inspect", help="Show what the bridge knows and did for a record.")
app.add_typer(visibility.app, name="visibility", help="The portal's per-account visibility index.")
app.add_typer(replay.app, name="replay", help="Re-process past events through the current mappings.")
app.add_typer(dlq.app, name="dlq", help="List, show, retry and purge dead letters.")
app.add_typer(status.app, name="status", help="Lag, outbox backlog, dead letters, mappings, last error.")

try:  # `bridge demo`, `bridge simulate` and `bridge kafka`: development tools, not in the wheel
    from bridgedev.commands import register as register_development_commands
except ModuleNotFoundError as missing:
    if missing.name != "bridgedev":
        raise
else:
    register_development_commands(app)

if __name__ == "__main__":
    app()
