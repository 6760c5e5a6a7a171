"""Child-process plumbing for the local broker: spawn tied to our lifetime, stop gracefully."""

from __future__ import annotations

import asyncio
import concurrent.futures
import ctypes
import signal
import subprocess
import sys
import threading
from collections.abc import Callable, Coroutine
from pathlib import Path
from typing import Any, TypeVar

_T = TypeVar("_T")
_PR_SET_PDEATHSIG = 1


def spawn_java(command: list[str], log_file: Path) -> subprocess.Popen[bytes]:
    """Start ``command`` with stdout+stderr appended to ``log_file``.

    The child gets its own session so a terminal's Ctrl-C reaches only us (we then stop it
    cleanly), and on Linux it is killed if we die without cleaning up (e.g. SIGKILL).
    """
    with log_file.open("ab") as log:
        return subprocess.Popen(
            command,
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
            preexec_fn=_die_with_parent(),  # only calls prctl: safe with threads
        )


def _die_with_parent() -> Callable[[], None] | None:
    # PDEATHSIG fires when the spawning *thread* exits, so only use it from the main thread.
    if not sys.platform.startswith("linux") or threading.current_thread() is not threading.main_thread():
        return None
    libc = ctypes.CDLL(None, use_errno=True)

    def set_death_signal() -> None:
        libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL)

    return set_death_signal


def kill_gracefully(process: subprocess.Popen[bytes], timeout_s: float = 20.0) -> None:
    """SIGTERM (Kafka's clean shutdown), wait up to ``timeout_s``, then SIGKILL."""
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=timeout_s)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def run_coroutine_blocking(coroutine: Coroutine[Any, Any, _T]) -> _T:
    """Run ``coroutine`` to completion from sync code, even if this thread runs an event loop."""
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return asyncio.run(coroutine)
    with concurrent.futures.ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(asyncio.run, coroutine).result()
