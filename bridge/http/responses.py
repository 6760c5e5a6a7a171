"""Minimal ASGI responses (the bridge's HTTP surface is a handful of GET endpoints)."""

from __future__ import annotations

import json
from typing import Any, Awaitable, Callable

Scope = dict[str, Any]
Receive = Callable[[], Awaitable[dict[str, Any]]]
Send = Callable[[dict[str, Any]], Awaitable[None]]


async def respond(send: Send, status: int, body: bytes, content_type: str, head_only: bool = False) -> None:
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [
                (b"content-type", content_type.encode()),
                (b"content-length", str(len(body)).encode()),
                (b"cache-control", b"no-store"),
            ],
        }
    )
    await send({"type": "http.response.body", "body": b"" if head_only else body})


async def respond_json(scope: Scope, send: Send, data: Any, status: int = 200) -> None:
    body = json.dumps(data, default=str, sort_keys=True).encode()
    await respond(send, status, body, "application/json", scope.get("method") == "HEAD")


async def method_not_allowed(send: Send) -> None:
    await respond(send, 405, b"method not allowed", "text/plain")


def get_only(
    handler: Callable[[Scope, Receive, Send], Awaitable[None]],
) -> Callable[[Scope, Receive, Send], Awaitable[None]]:
    """Wrap an ASGI handler so that only GET and HEAD reach it."""

    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        if scope.get("method") not in ("GET", "HEAD"):
            await method_not_allowed(send)
            return
        await handler(scope, receive, send)

    return app
