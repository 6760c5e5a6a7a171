"""`bridge run` and `bridge config show`."""

from __future__ import annotations

import asyncio
import contextlib
import logging
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
    failed_start = _FailedStart(settings.http.host, settings.http.port)
    logging.getLogger("uvicorn.error").addFilter(failed_start)
    _check_mappings(settings)
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
                     effective.probes.startup_deadline_s, failed_start)


def _check_mappings(settings: Settings) -> None:
    """Invalid mappings stop the start: said in one line, before anything is waited for."""
    from bridge.mapping import MappingValidationError, load_mapping_set
    from bridge.startup import StartupFailed

    try:
        load_mapping_set(settings.mappings_dir)
    except MappingValidationError as error:
        first = error.diagnostics[0].format().splitlines()[0] if error.diagnostics else ""
        raise StartupFailed(
            f"the mappings in {settings.mappings_dir} (BRIDGE_MAPPINGS_DIR) are invalid: "
            f"{len(error.diagnostics)} error(s), the first: {first} (`bridge mappings validate` "
            f"lists them)") from None


class _FailedStart(logging.Filter):
    """FastStream hands uvicorn a failed start's traceback as text (the lifespan message), and
    uvicorn logs it as the message: the log gets the error's class instead, and so does the
    line ``bridge run`` exits with."""

    def __init__(self, host: str, port: int) -> None:
        super().__init__()
        self._address = f"{host}:{port}"
        self.cause: str | None = None

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        if message.startswith("Traceback (most recent call last)"):
            last = message.rstrip().splitlines()[-1]  # "package.ErrorClass: its message"
            self.cause = last.split(":", 1)[0].rsplit(".", 1)[-1]
            record.msg, record.args = "bridge.start_failed", ()
            record.error_class = self.cause
        elif "error while attempting to bind" in message:
            self.cause = (f"cannot listen on {self._address} (BRIDGE_HTTP__HOST, "
                          "BRIDGE_HTTP__PORT): the address is taken or not this machine's")
        return True


async def _uvicorn(server: uvicorn.Server) -> None:
    with contextlib.suppress(SystemExit):  # how uvicorn ends a failed start-up; said by _serve
        await server.serve()


async def _serve(server: uvicorn.Server, consuming: Callable[[], bool], deadline: float,
                 budget_s: float, failed_start: _FailedStart) -> None:
    """Serve until the server stops; StartupFailed unless the bridge consumes by ``deadline``
    (FastStream completes the ASGI start-up first and starts the broker and the consumer
    after, in the background: a failure there would leave a server up that consumes nothing)."""
    from bridge.startup import DEADLINE_SETTING, StartupFailed

    loop = asyncio.get_running_loop()
    serving = loop.create_task(_uvicorn(server))
    while not consuming():
        if serving.done():
            await serving
            if server.started:
                return  # stopped (a signal) before it consumed
            cause = failed_start.cause or "an error logged before this line"
            raise StartupFailed(f"the bridge failed to start: {cause}")
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
