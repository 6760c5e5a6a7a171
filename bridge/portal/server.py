"""Serving the portal API with uvicorn inside a running event loop (beside the bridge)."""

from __future__ import annotations

import asyncio

import uvicorn
from starlette.applications import Starlette

START_TIMEOUT_S = 10


class PortalServer:
    """``async with PortalServer(app, host, port) as server:`` serves until the block ends;
    ``port=0`` picks a free port, readable as ``server.port`` once started."""

    def __init__(self, app: Starlette, host: str = "127.0.0.1", port: int = 0) -> None:
        config = uvicorn.Config(app, host=host, port=port, log_level="warning", access_log=False, lifespan="off")
        self._server = uvicorn.Server(config)
        self._task: asyncio.Task[None] | None = None
        self.host = host
        self.port = port

    async def __aenter__(self) -> PortalServer:
        self._task = asyncio.create_task(self._server.serve())
        async with asyncio.timeout(START_TIMEOUT_S):
            while not self._server.started:
                if self._task.done():
                    await self._task  # surfaces the startup error
                    raise RuntimeError("portal server stopped during startup")
                await asyncio.sleep(0.01)
        self.port = self._server.servers[0].sockets[0].getsockname()[1]
        return self

    async def __aexit__(self, *_exc: object) -> None:
        self._server.should_exit = True
        if self._task is not None:
            await self._task

    @property
    def base_url(self) -> str:
        return f"http://{self.host}:{self.port}"
