"""`bridge kafka` commands: a real local Kafka broker for development, from Maven Central jars."""

from __future__ import annotations

import asyncio
import signal
from typing import Annotated

import typer

from bridgedev.kafka._jars import DEFAULT_KAFKA_VERSION, KafkaJarsError, ensure_kafka_jars
from bridgedev.kafka.local_broker import LocalKafka, LocalKafkaError

app = typer.Typer(no_args_is_help=True)

VersionOption = Annotated[
    str, typer.Option("--version", help="Apache Kafka version (3.9.x or 4.x) from Maven Central.")
]


@app.command()
def fetch(version: VersionOption = DEFAULT_KAFKA_VERSION) -> None:
    """Resolve the broker's jars into the local cache (needs Maven once; CI runs this)."""
    try:
        libs = ensure_kafka_jars(version)
    except KafkaJarsError as error:
        typer.echo(str(error), err=True)
        raise typer.Exit(1) from None
    typer.echo(str(libs))


@app.command()
def start(
    port: Annotated[int | None, typer.Option(help="Broker port on 127.0.0.1 (default: a free one).")] = None,
    version: VersionOption = DEFAULT_KAFKA_VERSION,
) -> None:
    """Run a single-node KRaft broker in the foreground until Ctrl-C or SIGTERM; data is temporary."""
    try:
        asyncio.run(_serve(LocalKafka(version=version, port=port)))
    except (KafkaJarsError, LocalKafkaError) as error:
        typer.echo(str(error), err=True)
        raise typer.Exit(1) from None


async def _serve(kafka: LocalKafka) -> None:
    stop_requested = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signal_number in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signal_number, stop_requested.set)
    async with kafka:
        typer.echo(f"Kafka {kafka.version} ready in {kafka.startup_seconds:.1f}s", err=True)
        typer.echo(kafka.bootstrap_servers)
        typer.echo(f"export BRIDGE_KAFKA__BOOTSTRAP_SERVERS={kafka.bootstrap_servers}", err=True)
        await stop_requested.wait()
        typer.echo("stopping…", err=True)
