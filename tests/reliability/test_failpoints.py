"""The failpoints' ``hold`` action, in a process of its own (they are read from its environment):
a pass announces itself and waits while the hold file exists; a wrong setting is one clear error."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

SCRIPT = """
import asyncio
from bridge.failpoints import failpoint, failpoint_async

async def main():
    ticks = 0
    async def tick():
        nonlocal ticks
        while True:
            ticks += 1
            await asyncio.sleep(0.01)
    ticker = asyncio.create_task(tick())
    await failpoint_async("publish_acknowledged")
    ticker.cancel()
    failpoint("after_store_commit")  # not set: passes
    print("released", ticks > 0)

asyncio.run(main())
"""


def _start(tmp_path: Path, failpoints: str) -> subprocess.Popen[str]:
    env = {**os.environ, "BRIDGE_FAILPOINTS": failpoints, "BRIDGE_FAILPOINT_DIR": str(tmp_path)}
    return subprocess.Popen(
        [sys.executable, "-c", SCRIPT], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )


def test_a_held_point_waits_for_its_release_and_lets_the_event_loop_run(tmp_path: Path) -> None:
    hold = tmp_path / "publish_acknowledged.hold"
    hold.touch()
    process = _start(tmp_path, "publish_acknowledged=1:hold")
    reached = tmp_path / "publish_acknowledged.reached"
    deadline = time.monotonic() + 60
    while not reached.exists():
        assert process.poll() is None, process.communicate()
        assert time.monotonic() < deadline, "the point was never reached"
        time.sleep(0.05)
    assert reached.read_text().split() == [str(process.pid)]
    assert process.poll() is None, "it holds while the file exists"
    hold.unlink()
    out, err = process.communicate(timeout=60)
    assert process.returncode == 0, err
    assert out.split() == ["released", "True"]  # other tasks ran during the hold


def test_an_unknown_action_names_the_known_ones(tmp_path: Path) -> None:
    process = _start(tmp_path, "publish_acknowledged=1:pause")
    _, err = process.communicate(timeout=60)
    assert process.returncode != 0
    assert "unknown failpoint action 'pause'; known: kill, raise, hold" in err
