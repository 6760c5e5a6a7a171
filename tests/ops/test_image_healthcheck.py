"""The image's HEALTHCHECK command, run as Docker would run it in the container (the bridge's
port in BRIDGE_HTTP__PORT), against a real bridge: healthy while it runs, unhealthy without it."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.ops.helpers import free_port, running_bridge
from tests.test_deploy import healthcheck_command

pytestmark = pytest.mark.kafka


def _probe(port: int) -> int:
    command = healthcheck_command()
    assert command[0] == "python"
    env = {**os.environ, "BRIDGE_HTTP__PORT": str(port)}
    return subprocess.run([sys.executable, *command[1:]], env=env, capture_output=True, timeout=30).returncode


def test_the_healthcheck_passes_on_a_running_bridge_and_fails_without_one(
    bridge_env: dict[str, str], tmp_path: Path
) -> None:
    with running_bridge(bridge_env, tmp_path / "bridge.log") as port:
        assert _probe(port) == 0
    assert _probe(port) != 0  # stopped: nothing answers
    assert _probe(free_port()) != 0
