"""Before the bridge starts: wait for the broker and the store, with backoff, up to a deadline.

A bridge started before its broker or database (a Compose stack, a node reboot) waits for them
and logs each attempt (``startup.waiting``: what, the setting that names it, the attempt, the
error's class; never a URL, which may hold a password). When ``BRIDGE_PROBES__STARTUP_DEADLINE_S``
passes first, :class:`StartupFailed` carries the one line ``bridge run`` exits with; a
supervisor restarts the process or reports it, instead of a process that waits for ever.
"""

from __future__ import annotations

import asyncio
import itertools
import random
from pathlib import Path
from typing import Awaitable, Callable

import structlog
from aiokafka.admin import AIOKafkaAdminClient
from sqlalchemy.ext.asyncio import AsyncEngine

from bridge.kafka.clients import aiokafka_client_kwargs
from bridge.kafka.diagnose import KafkaUnavailable, start_client
from bridge.settings import Settings
from bridge.store.engine import is_sqlite, store_engine

log = structlog.get_logger("bridge.startup")

DEADLINE_SETTING = "BRIDGE_PROBES__STARTUP_DEADLINE_S"
#: The exit status of a bridge that could not start: uvicorn's for a failed start-up, too.
EXIT_STARTUP_FAILED = 3


class StartupFailed(Exception):
    """Why the bridge could not start, as one line that names the setting."""


async def wait_for_dependencies(settings: Settings, deadline: float) -> None:
    """Return once the broker and the store answer; ``deadline`` is on the loop's clock."""
    # Built first: what waiting cannot mend (a malformed URL, a missing TLS file) fails at once.
    # A SQLite file is not waited for: there is no server to come up, and what fails on it
    # (not a database, a directory that does not exist) fails the same way every time.
    waits = [
        (
            f"the Kafka broker at {settings.kafka.bootstrap_servers}",
            "BRIDGE_KAFKA__BOOTSTRAP_SERVERS",
            _broker_check(settings),
            True,
        ),
        ("the store", "BRIDGE_STORE__URL", _store_check(settings), not is_sqlite(settings.store.url)),
    ]
    for what, setting, check, retry in sorted(waits, key=lambda wait: wait[3]):  # at once first
        if retry:
            await _wait_for(what, setting, check, deadline, settings.probes.startup_deadline_s)
        else:
            try:
                await check()
            except Exception as error:  # noqa: BLE001 - named in the line
                raise StartupFailed(f"cannot use {what} ({setting}): {type(error).__name__}") from None


Check = Callable[[], Awaitable[None]]


async def _wait_for(what: str, setting: str, check: Check, deadline: float, budget_s: float) -> None:
    """Try ``check`` until it passes, waiting 0.5, 1, 2… (at most 5) seconds, jittered, between
    attempts; not stamina here: its scheduled wait may run past the deadline, and its log line
    carries the error's message (free text)."""
    loop = asyncio.get_running_loop()
    last: BaseException | None = None
    for attempt in itertools.count(1):
        try:
            async with asyncio.timeout_at(deadline):
                await check()
            break
        except Exception as error:  # noqa: BLE001 - any failure: not reachable (yet)
            if not isinstance(error, TimeoutError) or last is None:
                last = error  # the deadline cutting an attempt short says less than its cause
        wait = min(0.5 * 2 ** (attempt - 1), 5.0) * random.uniform(0.8, 1.2)
        left = deadline - loop.time()
        log.warning(
            "startup.waiting",
            dependency=what,
            setting=setting,
            attempt=attempt,
            error_class=type(last).__name__,
            gives_up_in_s=round(max(left, 0), 1),
        )
        if left <= 0:
            why = last.line if isinstance(last, KafkaUnavailable) else type(last).__name__
            raise StartupFailed(f"cannot reach {what} ({setting}) within {budget_s:g} s ({DEADLINE_SETTING}): {why}")
        await asyncio.sleep(min(wait, left))
    log.info("startup.reached", dependency=what)


def _unusable(settings_group: str, error: Exception) -> StartupFailed:
    file = getattr(error, "filename", None)  # a path is no secret; a URL may hold one
    return StartupFailed(
        f"cannot use the settings {settings_group}: {type(error).__name__}" + (f" ({file})" if file else "")
    )


def _broker_check(settings: Settings) -> Check:
    kafka = settings.kafka
    for name, path in (
        ("SSL_CAFILE", kafka.ssl_cafile),
        ("SSL_CERTFILE", kafka.ssl_certfile),
        ("SSL_KEYFILE", kafka.ssl_keyfile),
    ):
        if path is not None and not path.is_file():
            raise StartupFailed(f"cannot use the settings BRIDGE_KAFKA__{name}: no such file ({path})")
    try:
        kwargs = aiokafka_client_kwargs(settings.kafka)
    except Exception as error:  # noqa: BLE001 - a TLS file missing, say
        raise _unusable("BRIDGE_KAFKA__*", error) from None

    async def check() -> None:
        admin = AIOKafkaAdminClient(**kwargs, request_timeout_ms=5000)
        try:
            await start_client(admin, kafka)  # bootstraps: fails unless a broker answers
        finally:
            await admin.close()

    return check


def _store_check(settings: Settings) -> Check:
    try:
        engine: AsyncEngine = store_engine(settings.store)
    except Exception as error:  # noqa: BLE001 - a malformed URL, an unknown driver
        raise _unusable("BRIDGE_STORE__URL", error) from None

    database = Path(engine.url.database or "") if is_sqlite(settings.store.url) else None
    if database is not None and not database.parent.is_dir():
        raise StartupFailed(f"cannot use the settings BRIDGE_STORE__URL: no such directory ({database.parent})")

    async def check() -> None:
        try:
            if database is None or database.exists():  # a new SQLite file: the start makes it
                async with engine.connect():  # connected, no transaction: no SQLite write lock
                    pass
        finally:
            await engine.dispose()

    return check
