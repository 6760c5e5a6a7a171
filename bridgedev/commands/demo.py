"""`bridge demo`: the quickstart — a local Kafka, the bridge and simulated systems on a story."""

from __future__ import annotations

import asyncio
from pathlib import Path

import typer
from rich.console import Console

from bridge.commands._output import print_json
from bridge.settings import get_settings


def demo_command(
    once: bool = typer.Option(False, "--once", help="Tell the story, then stop everything."),
    port: int = typer.Option(8080, "--port", help="HTTP port of the bridge (status page, metrics); 0 picks one."),
    store: Path = typer.Option(None, "--store", help="SQLite file for the store (default: a temporary one)."),
    as_json: bool = typer.Option(False, "--json", help="Tell the story on stderr; print a JSON summary on stdout."),
) -> None:
    """Start a local Kafka, the bridge and simulated CSM/FSM/ITSM, and play a short story."""
    from bridge.logs import configure_logging
    from bridgedev.demo import DemoOptions, run_demo

    settings = get_settings()
    configure_logging(settings.log_format, "WARNING")  # the story is the output, not the logs
    console = Console(stderr=as_json)
    summary = asyncio.run(run_demo(DemoOptions(once=once, port=port, store=store), settings, console))
    if as_json:
        print_json(summary.to_dict())


if __name__ == "__main__":  # ``python -m bridgedev.commands.demo`` works before ``cli.py`` registers it
    typer.run(demo_command)
