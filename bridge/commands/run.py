"""`bridge run` and `bridge config show`."""

from __future__ import annotations

import asyncio
import contextlib
from typing import AsyncIterator

import typer
import uvicorn

from bridge.commands._output import JSON_OPTION, console, err_console, print_json
from bridge.settings import Settings, get_settings

config_app = typer.Typer(no_args_is_help=True)


@contextlib.asynccontextmanager
async def _local_kafka_if(wanted: bool, settings: Settings) -> AsyncIterator[Settings]:
    if not wanted:
        yield settings
        return
    from bridge.kafka.admin import create_topics
    from bridge.kafka.local_broker import LocalKafka

    async with LocalKafka() as kafka:
        err_console.print(f"local Kafka at {kafka.bootstrap_servers}")
        settings = settings.model_copy(update={"kafka": settings.kafka.model_copy(
            update={"bootstrap_servers": kafka.bootstrap_servers})})
        await create_topics(settings)
        yield settings


async def serve(settings: Settings, local_kafka: bool = False) -> None:
    from bridge.app import create_bridge
    from bridge.gc_tuning import tune_for_batches
    from bridge.logs import configure_logging

    configure_logging(settings.log_format, settings.log_level)
    async with _local_kafka_if(local_kafka, settings) as effective:
        bridge = create_bridge(effective)
        tune_for_batches()  # a process of its own: what exists now lives as long as it does
        server = uvicorn.Server(uvicorn.Config(
            bridge.asgi, host=effective.http.host, port=effective.http.port, lifespan="on",
            log_level="warning", access_log=False))  # URLs carry portal user ids
        await server.serve()


def run_command(
    local_kafka: bool = typer.Option(False, "--local-kafka",
                                     help="Start a local Kafka broker (Maven jars) first."),
) -> None:
    """Run the bridge: consume the event topics, publish commands, serve HTTP."""
    asyncio.run(serve(get_settings(), local_kafka))


@config_app.command("show")
def config_show(as_json: bool = JSON_OPTION) -> None:
    """The effective settings (environment, .env, defaults), secrets masked."""
    data = get_settings().model_dump(mode="json")
    if as_json:
        print_json(data)
        return
    for section, values in data.items():
        if isinstance(values, dict):
            for key, value in values.items():
                console.print(f"BRIDGE_{section.upper()}__{key.upper()} = {value}")
        else:
            console.print(f"BRIDGE_{section.upper()} = {values}")
