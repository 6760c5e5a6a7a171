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
from typing import AsyncIterator

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
    for unknown in warn_or_refuse_unknown_variables(echo=False):
        structlog.get_logger("bridge.config").warning(
            "config.unknown_variable", variable=unknown.name, source=unknown.source,
            did_you_mean=unknown.suggestion or None)
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
                    console.print(f"BRIDGE_{section.upper()}__{key.upper()} = {value}",
                                  markup=False, highlight=False)
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
            problems.append(f"BRIDGE_MAPPINGS_DIR: the mappings in {settings.mappings_dir} are invalid: "
                            f"{error} (`bridge mappings validate` lists every problem)")
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
