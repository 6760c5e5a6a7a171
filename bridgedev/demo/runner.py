"""Start everything, play the story, tell it; then stay up (Ctrl-C stops) or stop (``once``)."""

from __future__ import annotations

import asyncio
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from rich.console import Console

from bridge.settings import Settings
from bridgedev.demo.narrate import tell_scene
from bridgedev.demo.stage import Stage, open_stage
from bridgedev.demo.story import DemoSummary, play

#: The demo's simulated world; a fixed seed tells the same story every time.
SEED = 2026


@dataclass(frozen=True)
class DemoOptions:
    once: bool = False
    port: int = 8080
    store: Path | None = None  # SQLite file; None: a temporary one


async def run_demo(options: DemoOptions, settings: Settings, console: Console) -> DemoSummary:
    with tempfile.TemporaryDirectory(prefix="bridge-demo-") as scratch:
        store = options.store or Path(scratch) / "bridge.db"
        console.print("[bold]Starting[/] a local Kafka broker, the bridge and simulated CSM, FSM and ITSM…")
        async with open_stage(settings, f"sqlite+aiosqlite:///{store}", options.port, SEED) as stage:
            console.print(f"  Kafka {stage.settings.kafka.bootstrap_servers} · bridge {stage.base_url} · store {store}")
            scenes = await play(stage)
            labels = _labeller(stage)
            for number, scene in enumerate(scenes, 1):
                tell_scene(console, number, scene, labels)
            summary = DemoSummary(scenes, f"{stage.base_url}/", f"{stage.portal_url}/portal/v1/work-orders")
            console.rule()
            if options.once:
                return summary
            console.print(
                f"The bridge keeps running. Status page: [bold]{stage.base_url}/[/] · metrics: "
                f"{stage.base_url}/metrics\nPortal API: {summary.portal_url}?user=<sys_id> with "
                f"header 'Authorization: Bearer {stage.token}'\nPress Ctrl-C to stop everything."
            )
            await _until_interrupted(stage)
            return summary


async def _until_interrupted(stage: Stage) -> None:
    while not stage.server.should_exit:  # uvicorn sets it on SIGINT / SIGTERM
        await asyncio.sleep(0.2)


def _labeller(stage: Stage) -> Callable[[str], str]:
    """sys_id → what a person calls it: a number (cases, work orders) or a name (accounts…)."""
    return stage.simulator.world.store.label
