"""The bridge's HTTP surface, served by the same process (FastStream's ASGI app)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Callable

if TYPE_CHECKING:
    from bridge.app import Bridge


def asgi_routes(get_bridge: Callable[[], "Bridge"]) -> list[tuple[str, Any]]:
    """(path, ASGI app) pairs mounted on the bridge's HTTP port."""
    return []
