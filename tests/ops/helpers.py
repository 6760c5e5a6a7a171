"""Run the real CLI and the real bridge process for the operator-tooling tests."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Callable, Iterator

from tests.e2e.kafka_io import start_bridge


def cli(env: dict[str, str], *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    """``bridge <args>`` in a subprocess with ``env`` (the settings) on top of ours."""
    done = subprocess.run(
        [sys.executable, "-m", "tests.ops.cli_root", *args],
        env={**os.environ, **env, "COLUMNS": "200"},
        capture_output=True,
        text=True,
        timeout=120,
    )
    return _checked(done, args, check)


async def acli(env: dict[str, str], *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    """The same command run in this process (in a worker thread: the commands run their own
    event loop), which saves an interpreter start per call."""
    from typer.testing import CliRunner

    from bridge.settings import get_settings
    from tests.ops.cli_root import bridge_app

    def invoke() -> Any:
        get_settings.cache_clear()
        try:
            return CliRunner().invoke(bridge_app, list(args), env={**env, "COLUMNS": "200"})
        finally:
            get_settings.cache_clear()

    async with _IN_PROCESS:
        result = await asyncio.to_thread(invoke)
    done = subprocess.CompletedProcess(list(args), result.exit_code, result.stdout, result.stderr)
    return _checked(done, args, check)


async def acli_json(env: dict[str, str], *args: str) -> Any:
    return json.loads((await acli(env, *args, "--json")).stdout)


_IN_PROCESS = asyncio.Lock()


def _checked(
    done: subprocess.CompletedProcess[str], args: tuple[str, ...], check: bool
) -> subprocess.CompletedProcess[str]:
    if check and done.returncode != 0:
        raise AssertionError(f"bridge {' '.join(args)} failed ({done.returncode}):\n{done.stdout}\n{done.stderr}")
    return done


def cli_json(env: dict[str, str], *args: str) -> Any:
    return json.loads(cli(env, *args, "--json").stdout)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def http_get(port: int, path: str, timeout: float = 10) -> tuple[int, bytes]:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=timeout) as r:
            return r.status, r.read()
    except urllib.error.HTTPError as error:
        return error.code, error.read()


def wait_until(condition: Any, timeout_s: float = 30, interval_s: float = 0.3) -> Any:
    deadline = time.monotonic() + timeout_s
    while True:
        value = condition()
        if value or time.monotonic() > deadline:
            return value
        time.sleep(interval_s)


@contextmanager
def running_bridge(env: dict[str, str], log_path: Path, started: Callable[[], bool] | None = None) -> Iterator[int]:
    """The bridge as a subprocess; yields its HTTP port once ``/ready`` says ready (or once
    ``started()`` holds, when given)."""
    port = free_port()
    process = start_bridge(env, port=port, log_path=str(log_path))
    try:

        def ready() -> bool:
            try:
                return http_get(port, "/ready", timeout=5)[0] == 200
            except OSError:
                return False

        assert wait_until(started or ready, timeout_s=60), f"bridge not ready:\n{log_path.read_text()[-3000:]}"
        yield port
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
