"""`bridge run`, `bridge config show` and `bridge config check`.

Unknown ``BRIDGE_*`` variables (a mistyped name sets nothing, silently) are reported with the
setting they probably meant:

* a near miss of a real setting (``BRIDGE_STORE_URL`` for ``BRIDGE_STORE__URL``) is refused by
  every command, ``bridge run`` included: the operator meant to set something, and running
  on the default instead (a local SQLite file for the store!) does damage no warning undoes;
* a variable that resembles no setting is a warning (a log line for ``bridge run``): shared
  environments (Compose ``env_file``, a ConfigMap for several tools, a rollback to a release
  that lacks a newer setting) must not stop the bridge;
* ``config check`` and ``config show`` treat every unknown variable as an error (exit 2): they
  are the gate an operator or CI runs before a deploy.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from typing import AsyncIterator, Callable

import structlog
import typer
import uvicorn
from pydantic import ValidationError

from bridge.commands._errors import EXIT_USAGE, CommandError
from bridge.commands._output import JSON_OPTION, console, err_console, print_json
from bridge.settings import Settings, UnknownVariable, get_settings, settings_problems, unknown_variables

config_app = typer.Typer(no_args_is_help=True)


@contextlib.asynccontextmanager
async def _local_kafka_if(wanted: bool, settings: Settings) -> AsyncIterator[Settings]:
    if not wanted:
        yield settings
        return
    from bridge.kafka.admin import create_topics

    try:
        from bridgedev.kafka.local_broker import LocalKafka
    except ModuleNotFoundError:
        raise CommandError(
            "--local-kafka needs a development install (bridgedev: `make setup` "
            "in a checkout); point BRIDGE_KAFKA__BOOTSTRAP_SERVERS at a broker "
            "instead",
            EXIT_USAGE,
        ) from None

    async with LocalKafka() as kafka:
        err_console.print(f"local Kafka at {kafka.bootstrap_servers}")
        settings = settings.model_copy(
            update={"kafka": settings.kafka.model_copy(update={"bootstrap_servers": kafka.bootstrap_servers})}
        )
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
    for unknown in warn_or_refuse_unknown_variables(echo=False):
        structlog.get_logger("bridge.config").warning(
            "config.unknown_variable",
            variable=unknown.name,
            source=unknown.source,
            did_you_mean=unknown.suggestion or None,
        )
    failed_start = _FailedStart(settings.http.host, settings.http.port)
    logging.getLogger("uvicorn.error").addFilter(failed_start)
    _check_mappings(settings)
    async with _local_kafka_if(local_kafka, settings) as effective:
        deadline = asyncio.get_running_loop().time() + effective.probes.startup_deadline_s
        await wait_for_dependencies(effective, deadline)
        bridge = create_bridge(effective)
        tune_for_batches()  # a process of its own: what exists now lives as long as it does
        server = uvicorn.Server(
            uvicorn.Config(
                bridge.asgi,
                host=effective.http.host,
                port=effective.http.port,
                lifespan="on",
                log_level="warning",
                access_log=False,  # URLs carry portal user ids
                log_config=None,
            )
        )  # uvicorn logs through ours: one JSON line, no traceback
        await _serve(
            server, lambda: bridge.consumer.running, deadline, effective.probes.startup_deadline_s, failed_start
        )


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
            f"lists them)"
        ) from None


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
            self.cause = (
                f"cannot listen on {self._address} (BRIDGE_HTTP__HOST, "
                "BRIDGE_HTTP__PORT): the address is taken or not this machine's"
            )
        return True


async def _uvicorn(server: uvicorn.Server) -> None:
    with contextlib.suppress(SystemExit):  # how uvicorn ends a failed start-up; said by _serve
        await server.serve()


async def _serve(
    server: uvicorn.Server, consuming: Callable[[], bool], deadline: float, budget_s: float, failed_start: _FailedStart
) -> None:
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
            raise StartupFailed(f"the bridge did not start consuming within {budget_s:g} s ({DEADLINE_SETTING})")
        await asyncio.sleep(0.1)
    await serving


def run_command(
    local_kafka: bool = typer.Option(False, "--local-kafka", help="Start a local Kafka broker (Maven jars) first."),
) -> None:
    """Run the bridge: consume the event topics, publish commands, serve HTTP."""
    from bridge.startup import EXIT_STARTUP_FAILED, StartupFailed

    try:
        asyncio.run(serve(get_settings(), local_kafka))
    except StartupFailed as failure:
        typer.echo(f"error: {failure}", err=True)  # one line, never wrapped
        raise typer.Exit(EXIT_STARTUP_FAILED) from None


def warn_or_refuse_unknown_variables(echo: bool = True) -> list[UnknownVariable]:
    """Refuse near misses of a setting (exit 2); return (and with ``echo`` print) the others."""
    unknown = unknown_variables()
    near_misses = [u for u in unknown if u.suggestion]
    if near_misses:
        raise CommandError("; ".join(u.describe() for u in near_misses), EXIT_USAGE)
    if echo:
        for other in unknown:
            typer.echo(f"warning: {other.describe()}", err=True)
    return unknown


@config_app.command("show")
def config_show(as_json: bool = JSON_OPTION) -> None:
    """The effective settings (environment, .env, defaults), secrets masked (passwords inside
    URLs too); exit 2 on an invalid value or an unknown BRIDGE_* variable."""
    data = get_settings().masked()
    if as_json:
        print_json(data)
    else:
        for section, values in data.items():
            if isinstance(values, dict):
                for key, value in values.items():
                    console.print(f"BRIDGE_{section.upper()}__{key.upper()} = {value}", markup=False, highlight=False)
            else:
                console.print(f"BRIDGE_{section.upper()} = {values}", markup=False, highlight=False)
    _refuse_unknown_variables()


@config_app.command("check")
def config_check(as_json: bool = JSON_OPTION) -> None:
    """Validate the configuration without running anything: every invalid value, unknown
    BRIDGE_* variable and the mappings folder, one line each; exit 0 when valid, 2 otherwise."""
    from bridge.mapping import MappingValidationError, load_mapping_set

    problems: list[str] = []
    try:
        settings = get_settings()
    except ValidationError as error:
        problems += settings_problems(error)
    else:
        try:
            load_mapping_set(settings.mappings_dir)
        except MappingValidationError as error:
            problems.append(
                f"BRIDGE_MAPPINGS_DIR: the mappings in {settings.mappings_dir} are invalid: "
                f"{error} (`bridge mappings validate` lists every problem)"
            )
    problems += [u.describe() for u in unknown_variables()]
    if as_json:
        print_json({"valid": not problems, "problems": problems})
    elif not problems:
        console.print("configuration valid")
    for line in [] if as_json else problems:
        typer.echo(f"error: {line}", err=True)
    if problems:
        raise typer.Exit(EXIT_USAGE)


def _refuse_unknown_variables() -> None:
    unknown = unknown_variables()
    for variable in unknown:
        typer.echo(f"error: {variable.describe()}", err=True)
    if unknown:
        raise typer.Exit(EXIT_USAGE)
