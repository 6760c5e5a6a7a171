"""The running system the story plays on: local Kafka, topics, the bridge in-process (its HTTP
port serves the status page, metrics and the portal API), the simulated systems, an HTTP client.

Everything runs in one event loop; ``settle()`` waits until the bridge has consumed everything the
systems published and the systems have answered every command the bridge sent.
"""

from __future__ import annotations

import asyncio
import contextlib
import secrets
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import httpx
import uvicorn
from pydantic import SecretStr

from bridge.settings import Settings
from bridge.shipped import shipped_mappings_dir

if TYPE_CHECKING:  # both are imported when the stage starts, not when the CLI loads
    from bridge.app import Bridge
    from bridgedev.simulate import Simulator
SETTLE_TIMEOUT_S = 60.0


class DemoError(RuntimeError):
    """The demo could not start or a step did not complete in time."""


@dataclass
class Stage:
    settings: Settings
    bridge: Bridge
    simulator: Simulator
    http: httpx.AsyncClient
    server: uvicorn.Server  # the bridge's HTTP server; Ctrl-C makes it exit
    base_url: str
    portal_url: str  # the portal API is served on the bridge's port
    token: str

    async def publish(self, events: list[dict[str, Any]]) -> None:
        from bridgedev.simulate import message_of

        await self.simulator.publish([message_of(event, "demo") for event in events])

    async def settle(self, timeout_s: float = SETTLE_TIMEOUT_S) -> None:
        """Until nothing moves: all published events consumed, every command answered."""
        loop = asyncio.get_running_loop()
        deadline, previous = loop.time() + timeout_s, None
        while loop.time() < deadline:
            await asyncio.sleep(0.3)
            sent = sum(self.simulator.sent.values())
            stats = self.bridge.runtime.stats
            state = (sent, stats.events, self.bridge.relay.published, len(self.simulator.recorder))
            if stats.events >= sent and state[2] <= state[3] + _dead_letters(stats) and state == previous:
                return
            previous = state
        raise DemoError("the bridge and the systems did not settle in time")

    async def portal(self, user: str) -> list[dict[str, Any]]:
        """The work orders the portal API shows to ``user``."""
        response = await self.http.get(
            f"{self.portal_url}/portal/v1/work-orders",
            params={"user": user},
            headers={"Authorization": f"Bearer {self.token}"},
        )
        response.raise_for_status()
        return list(response.json()["result"])


def _dead_letters(stats: Any) -> int:
    return int(stats.outcomes.get("dead_lettered", 0))


def demo_settings(base: Settings, bootstrap: str, store_url: str, port: int) -> tuple[Settings, str]:
    token = base.http.portal_token.get_secret_value() or secrets.token_urlsafe(24)
    mappings = base.mappings_dir if base.mappings_dir.is_dir() else shipped_mappings_dir()
    settings = base.model_copy(
        update={
            "kafka": base.kafka.model_copy(update={"bootstrap_servers": bootstrap}),
            "store": base.store.model_copy(update={"url": store_url}),
            "http": base.http.model_copy(update={"port": port, "portal_token": SecretStr(token)}),
            "consumer": base.consumer.model_copy(update={"group_id": "bridge-demo"}),
            "mappings_dir": mappings,
        }
    )
    return settings, token


@contextlib.asynccontextmanager
async def open_stage(base: Settings, store_url: str, port: int, seed: int) -> AsyncIterator[Stage]:
    from bridge.kafka.admin import create_topics
    from bridgedev.kafka.local_broker import LocalKafka
    from bridgedev.simulate import Simulator

    async with LocalKafka() as kafka:
        settings, token = demo_settings(base, kafka.bootstrap_servers, store_url, port)
        await create_topics(settings)
        async with (
            _bridge(settings) as (bridge, server, base_url),
            Simulator(settings, seed=seed, group_id="bridge-demo-systems") as simulator,
            httpx.AsyncClient(timeout=10) as http,
        ):
            yield Stage(settings, bridge, simulator, http, server, base_url, base_url, token)


@contextlib.asynccontextmanager
async def _bridge(settings: Settings) -> AsyncIterator[tuple[Any, uvicorn.Server, str]]:
    from bridge.app import create_bridge

    bridge = create_bridge(settings)
    server = uvicorn.Server(
        uvicorn.Config(
            bridge.asgi, host=settings.http.host, port=settings.http.port, lifespan="on", log_level="warning"
        )
    )
    task = asyncio.create_task(server.serve(), name="bridge")
    try:
        async with asyncio.timeout(90):
            while not server.started:
                if task.done():
                    await task
                    raise DemoError("the bridge stopped while starting")
                await asyncio.sleep(0.05)
        port = server.servers[0].sockets[0].getsockname()[1]
        yield bridge, server, f"http://{settings.http.host}:{port}"
    finally:
        server.should_exit = True
        with contextlib.suppress(Exception):
            await asyncio.wait_for(task, 40)
