"""A throwaway PostgreSQL server that a test may stop and start again on the same data and port.

Builds on ``tests.fixtures.postgres.LocalPostgres`` (initdb into a temporary directory,
127.0.0.1 only); ``stop()`` is a fast shutdown, ``start()`` serves the same cluster again.
"""

from __future__ import annotations

import subprocess
from collections.abc import Iterator

import pytest

from tests.fixtures.postgres import LocalPostgres, _bindir, _run_as


class StoppablePostgres(LocalPostgres):
    def stop(self) -> None:
        """Fast shutdown (SIGINT): clients are disconnected, the data stays."""
        assert self._process is not None
        self._process.send_signal(2)
        self._process.wait(timeout=30)

    def start(self) -> None:
        """Serve the same data directory on the same port again."""
        run_as = _run_as()
        self._process = subprocess.Popen(
            [
                _bindir() / "postgres",
                "-D",
                self._dir / "data",
                "-p",
                str(self.port),
                "-k",
                self._dir,
                "-c",
                "listen_addresses=127.0.0.1",
                "-c",
                "fsync=off",
                "-c",
                "max_connections=50",
            ],
            stdout=subprocess.DEVNULL,
            stderr=open(self._dir / "server-restart.log", "ab"),  # lives with the server
            user=run_as,
            group=run_as,
        )
        self._wait_until_ready()


@pytest.fixture
def stoppable_postgres() -> Iterator[StoppablePostgres]:
    """A PostgreSQL server of its own for one test (it may be stopped and started)."""
    with StoppablePostgres() as server:
        yield server
