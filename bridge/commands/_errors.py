"""Every command's failures as one line that names the setting or the file.

The root group (``cli.py``) runs each command inside :class:`BridgeGroup`, which turns an
exception that a person can cause — an invalid setting, a store that is missing, unmigrated or
down, a broker that does not answer, a file that cannot be read, invalid mappings — into one
line on stderr and a meaningful exit code. ``bridge --debug …`` lets the traceback through.

Exit codes: 0 done; 1 the command failed (store, broker, files, data); 2 the command or the
configuration is wrong (usage, invalid or unknown settings).
"""

from __future__ import annotations

import logging
import ssl
from collections.abc import Callable, Iterator
from typing import Any

import typer
from pydantic import ValidationError
from typer.core import TyperGroup

from bridge.redaction import mask_secrets

EXIT_FAILED = 1
EXIT_USAGE = 2

DEBUG_HINT = "(bridge --debug … shows the traceback)"


class CommandError(Exception):
    """A failure already worded for the operator: one line, naming the setting or file."""

    def __init__(self, message: str, code: int = EXIT_FAILED) -> None:
        super().__init__(message)
        self.code = code


class BridgeGroup(TyperGroup):
    """The root command group (and a sub-app run on its own): one line per failure instead of
    a traceback (unless --debug)."""

    # ``ctx`` is the click Context that Typer vendors (in a private module): no public name
    # to give its type.
    def invoke(self, ctx: Any) -> Any:
        try:
            return super().invoke(ctx)
        except Exception as error:
            if _ends_on_purpose(error) or ctx.find_root().params.get("debug"):
                raise
            lines, code = describe(error)
            for line in lines:
                typer.echo(f"error: {mask_secrets(line)}", err=True)
            raise typer.Exit(code) from None


def _ends_on_purpose(error: Exception) -> bool:
    """An exit with a code (``typer.Exit``), a usage error (it knows its code and shows itself),
    Ctrl-C: not failures to describe."""
    return isinstance(error, (typer.Exit, typer.Abort, typer.TyperException)) or hasattr(error, "exit_code")


def quiet_client_libraries() -> None:
    """The Kafka and database clients log their connection failures (to stderr, through
    Python's last-resort handler) before raising them: a command reports the failure in its
    one line, so their lines would only repeat it."""
    for name in ("aiokafka", "asyncpg", "aiosqlite", "sqlalchemy", "alembic"):
        logging.getLogger(name).setLevel(logging.CRITICAL)


def describe(error: BaseException) -> tuple[list[str], int]:
    """The operator's lines for ``error`` and the exit code."""
    error = _innermost(error)
    for kind, explain in _EXPLAINERS:
        if isinstance(error, kind):
            found = explain(error)
            if found is not None:
                return found
    return [f"unexpected {type(error).__name__}: {first_line(error)} {DEBUG_HINT}"], EXIT_FAILED


def _innermost(error: BaseException) -> BaseException:
    """The first leaf of an exception group (a task group's failure)."""
    while isinstance(error, BaseExceptionGroup) and error.exceptions:
        error = error.exceptions[0]
    return error


def first_line(error: BaseException) -> str:
    """An error's message, first line only (a driver's message may go on with SQL and data)."""
    text = str(error).strip()
    return text.splitlines()[0] if text else "(no message)"


def _settings() -> object | None:
    """The settings when they are valid (a failure's line names the configured values)."""
    from bridge.settings import get_settings

    try:
        return get_settings()
    except ValidationError:
        return None


def _store_url() -> str:
    settings = _settings()
    return getattr(getattr(settings, "store", None), "url", "?")


def _kafka_servers() -> str:
    settings = _settings()
    return getattr(getattr(settings, "kafka", None), "bootstrap_servers", "?")


def _command_error(error: CommandError) -> tuple[list[str], int]:
    return [str(error)], error.code


def _validation(error: ValidationError) -> tuple[list[str], int] | None:
    from bridge.settings import Settings, settings_problems

    if error.title != Settings.__name__:
        return None
    return settings_problems(error), EXIT_USAGE


def _store(error: Exception) -> tuple[list[str], int]:
    from sqlalchemy.exc import DBAPIError

    cause = error.orig if isinstance(error, DBAPIError) and error.orig is not None else error
    message = first_line(cause)
    if "no such table" in message or ("relation" in message and "does not exist" in message):
        return [
            f"the store at {_store_url()} (BRIDGE_STORE__URL) has no schema or an old one: run `bridge db upgrade`"
        ], EXIT_FAILED
    return [f"the store at {_store_url()} (BRIDGE_STORE__URL) failed: {type(cause).__name__}: {message}"], EXIT_FAILED


def _kafka(error: Exception) -> tuple[list[str], int]:
    from bridge.kafka.diagnose import KafkaUnavailable

    if isinstance(error, KafkaUnavailable):  # the client's own reason, with the setting to check
        return [error.line], EXIT_FAILED
    message = first_line(error).removeprefix(f"{type(error).__name__}: ")
    return [
        f"Kafka is unreachable or refused the request (BRIDGE_KAFKA__BOOTSTRAP_SERVERS="
        f"{_kafka_servers()}): {type(error).__name__}: {message}"
    ], EXIT_FAILED


def _tls(error: ssl.SSLError) -> tuple[list[str], int]:
    return [
        f"TLS with Kafka at {_kafka_servers()} failed (BRIDGE_KAFKA__SSL_CAFILE, "
        f"BRIDGE_KAFKA__SSL_CERTFILE, BRIDGE_KAFKA__SSL_KEYFILE): {first_line(error)}"
    ], EXIT_FAILED


def _mappings(error: Exception) -> tuple[list[str], int]:
    from bridge.mapping import MappingValidationError

    assert isinstance(error, MappingValidationError)
    settings = _settings()
    folder = getattr(settings, "mappings_dir", "?")
    return [
        f"the mappings in {folder} (BRIDGE_MAPPINGS_DIR) are invalid: {error} "
        "(`bridge mappings validate` lists every problem)"
    ], EXIT_FAILED


#: Where a failure without a name of its own (a refused connection, a timeout) came from:
#: the library whose code raised it, by module prefix.
_ORIGINS = (
    ("asyncpg", "store"),
    ("aiosqlite", "store"),
    ("sqlalchemy", "store"),
    ("alembic", "store"),
    ("aiokafka", "kafka"),
    ("faststream", "kafka"),
)


def origin(error: BaseException) -> str | None:
    """ "store" or "kafka" when the innermost library frame of the traceback is one of theirs."""
    found = None
    tb = error.__traceback__
    while tb is not None:
        module = str(tb.tb_frame.f_globals.get("__name__", ""))
        found = next((where for prefix, where in _ORIGINS if module.startswith(prefix)), found)
        tb = tb.tb_next
    return found


def _os(error: OSError) -> tuple[list[str], int] | None:
    if error.filename is None:
        where = origin(error)
        if where == "store":
            return _store(error)
        if where == "kafka":
            return _kafka(error)
        return None
    target = f"{error.filename} → {error.filename2}" if error.filename2 else str(error.filename)
    return [f"{target}: {error.strerror or first_line(error)}"], EXIT_FAILED


def _explainers() -> Iterator[tuple[type[BaseException], Callable[..., tuple[list[str], int] | None]]]:
    from aiokafka.errors import KafkaError
    from sqlalchemy.exc import DBAPIError

    from bridge.mapping import MappingValidationError

    yield CommandError, _command_error
    yield ValidationError, _validation
    yield DBAPIError, _store
    yield KafkaError, _kafka
    yield ssl.SSLError, _tls  # before OSError: it is one
    yield MappingValidationError, _mappings
    yield OSError, _os


class _Explainers:
    """Imported on the first failure only: a command that succeeds pays nothing for them."""

    def __iter__(self) -> Iterator[tuple[type[BaseException], Callable[..., tuple[list[str], int] | None]]]:
        return _explainers()


_EXPLAINERS = _Explainers()
