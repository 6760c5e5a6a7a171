"""The bridge's HTTP surface, served by the same process (FastStream's ASGI app).

``/health`` alive (503 once the event consumer stopped for good) · ``/ready`` broker, store and
mappings · ``/metrics`` Prometheus · ``/`` status page · ``/status.json`` its data.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Callable

from prometheus_client import make_asgi_app

from bridge.http.ready import readiness
from bridge.http.responses import Receive, Scope, Send, get_only, respond, respond_json
from bridge.http.status_page import page_html, status_data
from bridge.observability import telemetry_of

if TYPE_CHECKING:
    from bridge.app import Bridge


def asgi_routes(get_bridge: Callable[[], "Bridge"]) -> list[tuple[str, Any]]:
    """(path, ASGI app) pairs mounted on the bridge's HTTP port."""
    metrics_apps: dict[int, Any] = {}

    async def health(scope: Scope, receive: Receive, send: Send) -> None:
        failure = get_bridge().consumer.failure
        if failure is not None:  # consuming stopped for good: the process must be restarted
            await respond_json(scope, send, {"status": "failed", "error": failure,
                                             "why": "the event consumer stopped"}, 503)
            return
        await respond_json(scope, send, {"status": "alive"})

    async def ready(scope: Scope, receive: Receive, send: Send) -> None:
        report = await readiness(get_bridge())
        await respond_json(scope, send, report, 200 if report["ready"] else 503)

    async def metrics(scope: Scope, receive: Receive, send: Send) -> None:
        registry = telemetry_of(get_bridge()).metrics.registry
        app = metrics_apps.setdefault(id(registry), make_asgi_app(registry))
        await app(scope, receive, send)

    async def page(scope: Scope, receive: Receive, send: Send) -> None:
        await respond(send, 200, page_html(), "text/html; charset=utf-8",
                      scope.get("method") == "HEAD")

    async def status(scope: Scope, receive: Receive, send: Send) -> None:
        await respond_json(scope, send, await status_data(get_bridge()))

    return [("/health", get_only(health)), ("/ready", get_only(ready)),
            ("/metrics", get_only(metrics)), ("/", get_only(page)),
            ("/status.json", get_only(status))]
