"""The bridge as a real subprocess, stopped (SIGTERM, then SIGKILL) after the test."""

from __future__ import annotations

import signal
import subprocess
from pathlib import Path

import pytest

from tests.e2e.kafka_io import start_bridge


@pytest.fixture
def bridge_process(bridge_env: dict[str, str], tmp_path: Path):  # type: ignore[no-untyped-def]
    processes: list[subprocess.Popen[bytes]] = []

    def start() -> subprocess.Popen[bytes]:
        process = start_bridge(bridge_env, log_path=str(tmp_path / "bridge.log"))
        processes.append(process)
        return process

    yield start
    for process in processes:
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()
