"""`bridge topics` commands: create the bridge's topics and show their state."""

from __future__ import annotations

import asyncio
import dataclasses
import json
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from bridge.commands._errors import BridgeGroup
from bridge.kafka.admin import TopicAdminError, TopicCreateResult, TopicInfo, create_topics, describe_topics
from bridge.settings import get_settings

app = typer.Typer(no_args_is_help=True, cls=BridgeGroup)  # one-line failures on its own too

JsonOption = Annotated[bool, typer.Option("--json", help="Machine-readable JSON on stdout.")]


@app.command("create")
def create(as_json: JsonOption = False) -> None:
    """Create the topics that do not exist yet (safe to run again; existing ones are left alone)."""
    try:
        results = asyncio.run(create_topics(get_settings()))
    except TopicAdminError as error:
        _show_created(error.results, as_json)
        typer.echo(str(error), err=True)
        raise typer.Exit(1) from None
    _show_created(results, as_json)


@app.command("list")
def list_topics(as_json: JsonOption = False) -> None:
    """Show each topic under its deployed name: partitions and end offsets."""
    topics = asyncio.run(describe_topics(get_settings()))  # a broker's failure: the root's one line
    if as_json:
        typer.echo(json.dumps([_topic_json(topic) for topic in topics], indent=2))
        return
    table = Table("logical name", "topic", "partitions", "end offsets", "total")
    for topic in topics:
        offsets = " ".join(f"{p.partition}:{p.end_offset}" for p in topic.partitions) or "-"
        count = str(len(topic.partitions)) if topic.exists else "[red]missing[/red]"
        table.add_row(topic.logical_name, topic.name, count, offsets, str(topic.end_offset_total))
    Console().print(table)


def _show_created(results: list[TopicCreateResult], as_json: bool) -> None:
    if as_json:
        typer.echo(json.dumps([dataclasses.asdict(result) for result in results], indent=2))
        return
    table = Table("logical name", "topic", "status", "partitions", "replicas", "error")
    for result in results:
        colour = {"created": "green", "exists": "dim", "failed": "red"}[result.status]
        table.add_row(
            result.logical_name,
            result.name,
            f"[{colour}]{result.status}[/{colour}]",
            str(result.partitions),
            str(result.replication_factor),
            result.error or "",
        )
    Console().print(table)


def _topic_json(topic: TopicInfo) -> dict[str, object]:
    return {
        "logical_name": topic.logical_name,
        "name": topic.name,
        "exists": topic.exists,
        "partitions": [dataclasses.asdict(partition) for partition in topic.partitions],
        "end_offset_total": topic.end_offset_total,
    }
