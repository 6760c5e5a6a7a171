"""`bridge run` and `bridge config show`."""

from __future__ import annotations

import asyncio
import contextlib
from typing import AsyncIterator, Callable

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
    """Wait for the broker and the store, then run the bridge and its HTTP server until a
    signal; :class:`StartupFailed` when it cannot start within the start-up deadline."""
    from bridge.app import create_bridge
    from bridge.gc_tuning import tune_for_batches
    from bridge.logs import configure_logging
    from bridge.startup import wait_for_dependencies

    configure_logging(settings.log_format, settings.log_level)
    async with _local_kafka_if(local_kafka, settings) as effective:
        deadline = asyncio.get_running_loop().time() + effective.probes.startup_deadline_s
        await wait_for_dependencies(effective, deadline)
        bridge = create_bridge(effective)
        tune_for_batches()  # a process of its own: what exists now lives as long as it does
        server = uvicorn.Server(uvicorn.Config(
            bridge.asgi, host=effective.http.host, port=effective.http.port, lifespan="on",
            log_level="warning", access_log=False,  # URLs carry portal user ids
            log_config=None))  # uvicorn logs through ours: one JSON line, no traceback
        await _serve(server, lambda: bridge.consumer.running, deadline,
                     effective.probes.startup_deadline_s)


async def _serve(server: uvicorn.Server, consuming: Callable[[], bool], deadline: float,
                 budget_s: float) -> None:
    """Serve until the server stops; StartupFailed unless the bridge consumes by ``deadline``
    (FastStream completes the ASGI start-up first and starts the broker and the consumer
    after, in the background: a failure there would leave a server up that consumes nothing)."""
    from bridge.startup import DEADLINE_SETTING, StartupFailed

    loop = asyncio.get_running_loop()
    serving = loop.create_task(server.serve())
    while not consuming():
        if serving.done():
            await serving
            if server.started:
                return  # stopped (a signal) before it consumed
            raise StartupFailed("the bridge failed to start: see the error logged before")
        if loop.time() > deadline:
            serving.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await serving
            raise StartupFailed(f"the bridge did not start consuming within {budget_s:g} s "
                                f"({DEADLINE_SETTING})")
        await asyncio.sleep(0.1)
    await serving


def run_command(
    local_kafka: bool = typer.Option(False, "--local-kafka",
                                     help="Start a local Kafka broker (Maven jars) first."),
) -> None:
    """Run the bridge: consume the event topics, publish commands, serve HTTP."""
    from bridge.startup import EXIT_STARTUP_FAILED, StartupFailed

    try:
        asyncio.run(serve(get_settings(), local_kafka))
    except StartupFailed as failure:
        typer.echo(f"error: {failure}", err=True)  # one line, never wrapped
        raise typer.Exit(EXIT_STARTUP_FAILED) from None


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
