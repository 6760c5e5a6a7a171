"""`bridge simulate` commands: the simulated CSM, FSM and ITSM systems."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from bridge.settings import get_settings
from bridgedev.simulate import MIXES, SIZES, RunOptions, SimWorld, populate, run_simulation, summary

app = typer.Typer(no_args_is_help=True)

SeedOption = Annotated[int, typer.Option(help="Seed: the same seed gives the same records and events.")]
SizeOption = Annotated[str, typer.Option(help=f"Population size: {', '.join(SIZES)}.")]
JsonOption = Annotated[bool, typer.Option("--json", help="Print the summary as JSON.")]


def _check_choice(value: str, choices: dict[str, Any], what: str) -> None:
    if value not in choices:
        typer.echo(f"unknown {what} {value!r}; choose one of: {', '.join(choices)}", err=True)
        raise typer.Exit(2)


@app.command()
def run(
    seed: SeedOption = 1,
    size: SizeOption = "small",
    rate: Annotated[float | None, typer.Option(help="Events per second (default: unlimited).", min=0.1)] = None,
    count: Annotated[int | None, typer.Option(help="Workload events after the population.", min=0)] = None,
    duration: Annotated[float | None, typer.Option(help="Seconds of workload.", min=0.1)] = None,
    mix: Annotated[str, typer.Option(help=f"Change mix: {', '.join(MIXES)}.")] = "standard",
    record: Annotated[Path | None, typer.Option(help="Append every command received to this JSONL file.")] = None,
    no_population: Annotated[
        bool,
        typer.Option(
            "--no-population",
            help="Do not publish the population's inserts (the bridge has them from an earlier run "
            "with this seed and size); the workload still changes those records.",
        ),
    ] = False,
    linger: Annotated[float, typer.Option(help="Seconds to keep answering commands at the end.")] = 2.0,
    as_json: JsonOption = False,
) -> None:
    """Publish a population and a stream of changes, answering the bridge's commands meanwhile."""
    _check_choice(size, SIZES, "size")
    _check_choice(mix, MIXES, "mix")
    if (count is None) == (duration is None):
        typer.echo("give exactly one of --count and --duration", err=True)
        raise typer.Exit(2)
    options = RunOptions(
        seed=seed,
        size=size,
        mix=mix,
        rate=rate,
        count=count,
        duration=duration,
        population=not no_population,
        linger=linger,
        record_path=record,
    )
    progress = Progress(
        TextColumn("simulating"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=Console(stderr=True),
        transient=True,
    )
    with progress:
        task = progress.add_task("events", total=None)  # the population adds an unknown number
        result = asyncio.run(run_simulation(options, get_settings(), progress=lambda n: progress.advance(task, n)))
    _print(result.to_dict(), as_json)


@app.command()
def population(seed: SeedOption = 1, size: SizeOption = "small", as_json: JsonOption = False) -> None:
    """Build the population for a seed and print what it holds (nothing is published)."""
    _check_choice(size, SIZES, "size")
    world = SimWorld(seed)
    for _ in populate(world, size):
        pass
    _print({"size": size, **summary(world)}, as_json)


def _print(result: dict[str, Any], as_json: bool) -> None:
    if as_json:
        typer.echo(json.dumps(result, indent=2))
        return
    for key, value in result.items():
        if isinstance(value, dict):
            typer.echo(f"{key}:")
            for inner, figure in value.items():
                typer.echo(f"  {inner}: {figure}")
        else:
            typer.echo(f"{key}: {value}")
