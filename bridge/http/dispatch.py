"""One HTTP port for everything: the portal API beside FastStream's ASGI app.

FastStream's ``AsgiFastStream`` matches its routes by exact path; the portal has paths with a
work-order id in them, so requests under ``/portal/`` go to the portal's own app and everything
else (lifespan included) to FastStream's.
"""

from __future__ import annotations

from typing import Any

PORTAL_PREFIX = "/portal/"


def with_portal(app: Any, portal: Any) -> Any:
    async def dispatch(scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] == "http" and scope.get("path", "").startswith(PORTAL_PREFIX):
            await portal(scope, receive, send)
        else:
            await app(scope, receive, send)

    return dispatch
