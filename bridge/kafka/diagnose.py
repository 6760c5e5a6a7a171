"""Why a Kafka client could not connect, in one line that names the setting to look at.

aiokafka raises a bare ``KafkaConnectionError("Unable to bootstrap from ...")`` when no
bootstrap server could be reached; the reason for each server (refused, untrusted certificate,
wrong SCRAM password, TLS closed by a broker that wants a client certificate) is only logged
on the ``aiokafka`` logger. ``connection_failures()`` collects those reasons while a client
starts (through the logging API, no client internals), and ``explain()`` turns the first one
into a line for an operator. Secrets never appear: only setting names and file paths do.
"""

from __future__ import annotations

import logging
import ssl
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Protocol

from aiokafka.errors import KafkaConnectionError, SaslAuthenticationFailed

from bridge.settings import KafkaSettings

_AIOKAFKA_LOGGER = "aiokafka"


@dataclass(frozen=True)
class ConnectionFailure:
    """One bootstrap server that could not be reached, and the client's reason."""

    server: str
    error: BaseException


class _Collector(logging.Handler):
    def __init__(self) -> None:
        super().__init__(level=logging.ERROR)
        self.failures: list[ConnectionFailure] = []

    def emit(self, record: logging.LogRecord) -> None:
        # aiokafka: log.error('Unable connect to "%s:%s": %s', host, port, err)
        args = record.args
        if isinstance(args, tuple) and len(args) == 3 and isinstance(args[2], BaseException):
            self.failures.append(ConnectionFailure(f"{args[0]}:{args[1]}", args[2]))


@contextmanager
def connection_failures(*, quiet: bool = True) -> Iterator[list[ConnectionFailure]]:
    """Collect the per-server connection errors aiokafka logs inside the block.

    With ``quiet`` the ``aiokafka`` logger's own lines are held back meanwhile, so that a
    command can print one line of its own instead of the client's two.
    """
    logger = logging.getLogger(_AIOKAFKA_LOGGER)
    collector = _Collector()
    was_propagating, was_level = logger.propagate, logger.level
    logger.addHandler(collector)
    if quiet:
        logger.propagate = False
    if logger.getEffectiveLevel() > logging.ERROR:  # a command may have silenced the client
        logger.setLevel(logging.ERROR)
    try:
        yield collector.failures
    finally:
        logger.removeHandler(collector)
        logger.propagate = was_propagating
        logger.setLevel(was_level)


def explain(kafka: KafkaSettings, error: BaseException, failures: list[ConnectionFailure]) -> str:
    """One line: what failed, and which ``BRIDGE_KAFKA__*`` setting to check."""
    cause = failures[0].error if failures else error
    where = failures[0].server if failures else "BRIDGE_KAFKA__BOOTSTRAP_SERVERS"
    if isinstance(cause, SaslAuthenticationFailed):
        return (
            f"Kafka at {where} refused the credentials ({kafka.sasl_mechanism}): check "
            "BRIDGE_KAFKA__SASL_USERNAME and BRIDGE_KAFKA__SASL_PASSWORD"
        )
    if isinstance(cause, ssl.SSLCertVerificationError):
        trusted = (
            f"BRIDGE_KAFKA__SSL_CAFILE={kafka.ssl_cafile}"
            if kafka.ssl_cafile
            else "the system's CA store (BRIDGE_KAFKA__SSL_CAFILE is not set)"
        )
        return f"the certificate of Kafka at {where} is not trusted by {trusted}: {cause.verify_message}"
    if isinstance(cause, ssl.SSLError):
        return f"TLS with Kafka at {where} failed ({cause.reason}): check BRIDGE_KAFKA__SSL_* settings"
    if isinstance(cause, ConnectionRefusedError):
        return (
            f"nothing accepts connections at {where}: check BRIDGE_KAFKA__BOOTSTRAP_SERVERS "
            "and that the broker is running"
        )
    if isinstance(cause, KafkaConnectionError) and kafka.security_protocol == "SSL" and not kafka.ssl_certfile:
        return (
            f"Kafka at {where} closed the TLS connection: it may require a client certificate "
            "(BRIDGE_KAFKA__SSL_CERTFILE and BRIDGE_KAFKA__SSL_KEYFILE)"
        )
    if isinstance(cause, KafkaConnectionError) and kafka.security_protocol != "PLAINTEXT" and failures:
        return (
            f"Kafka at {where} closed the connection: check that BRIDGE_KAFKA__SECURITY_PROTOCOL="
            f"{kafka.security_protocol} matches that listener"
        )
    if isinstance(cause, (OSError, TimeoutError)):
        return f"Kafka at {where} is unreachable ({type(cause).__name__}): check BRIDGE_KAFKA__BOOTSTRAP_SERVERS"
    return f"Kafka is unreachable or refused the request ({type(cause).__name__}): check BRIDGE_KAFKA__* settings"


class KafkaUnavailable(KafkaConnectionError):
    """A client could not start; ``str()`` is the one line ``explain`` wrote."""

    def __init__(self, line: str) -> None:
        super().__init__(line)
        self.line = line

    def __str__(self) -> str:
        return self.line


class _Startable(Protocol):
    async def start(self) -> None: ...


async def start_client(client: _Startable, kafka: KafkaSettings) -> None:
    """``client.start()``; a failure to connect becomes ``KafkaUnavailable`` with the reason."""
    with connection_failures() as failures:
        try:
            await client.start()
        except KafkaConnectionError as error:
            raise KafkaUnavailable(explain(kafka, error, failures)) from error
