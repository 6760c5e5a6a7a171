"""The bridge's HTTP surface, served by the same process (FastStream's ASGI app).

``/health`` alive, or 503 when the bridge cannot make progress and must be restarted (the
event consumer stopped for good, the event loop blocked) · ``/ready`` broker, store, mappings,
partitions moving, store writable · ``/metrics`` Prometheus · ``/`` status page ·
``/status.json`` its data. The routes see the bridge through :class:`ServedBridge` only.
"""

from __future__ import annotations

from typing import Any

from prometheus_client import make_asgi_app

from bridge.http.ready import readiness
from bridge.http.responses import Receive, Scope, Send, get_only, respond, respond_json
from bridge.http.status_page import page_html, status_data
from bridge.http.view import ServedBridge

__all__ = ["ServedBridge", "asgi_routes"]


def asgi_routes(bridge: ServedBridge) -> list[tuple[str, Any]]:
    """(path, ASGI app) pairs mounted on the bridge's HTTP port."""
    metrics_app = make_asgi_app(bridge.telemetry.metrics.registry)

    async def health(scope: Scope, receive: Receive, send: Send) -> None:
        failure = bridge.liveness_failure()
        if failure is not None:  # it cannot make progress: the process must be restarted
            await respond_json(scope, send, {"status": "failed", **failure}, 503)
            return
        await respond_json(scope, send, {"status": "alive"})

    async def ready(scope: Scope, receive: Receive, send: Send) -> None:
        report = await readiness(bridge)
        await respond_json(scope, send, report, 200 if report["ready"] else 503)

    async def metrics(scope: Scope, receive: Receive, send: Send) -> None:
        await metrics_app(scope, receive, send)

    async def page(scope: Scope, receive: Receive, send: Send) -> None:
        await respond(send, 200, page_html(), "text/html; charset=utf-8", scope.get("method") == "HEAD")

    async def status(scope: Scope, receive: Receive, send: Send) -> None:
        await respond_json(scope, send, await status_data(bridge))

    return [
        ("/health", get_only(health)),
        ("/ready", get_only(ready)),
        ("/metrics", get_only(metrics)),
        ("/", get_only(page)),
        ("/status.json", get_only(status)),
    ]
