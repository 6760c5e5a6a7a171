"""``GET /`` (the status page) and ``GET /status.json`` (the data it polls)."""

from __future__ import annotations

import time
from importlib import resources
from typing import Any

from bridge.http.view import ServedBridge
from bridge.ops import status as store_status


def page_html() -> bytes:
    return resources.files("bridge.http").joinpath("static/status.html").read_bytes()


async def status_data(bridge: ServedBridge) -> dict[str, Any]:
    """Everything the status page shows; ids and counts only, never payloads."""
    telemetry = bridge.telemetry
    reloader = bridge.reloader
    data: dict[str, Any] = {
        "now": time.time(),
        "started_at": telemetry.started_at,
        "instance_id": bridge.settings.instance_id,
        "mapping": {
            "version": reloader.active.version,
            "content_hash": reloader.active.content_hash,
            "reloads": reloader.reload_count,
            "rejected": reloader.rejected_count,
        }
        if reloader
        else None,
        "totals": {
            "events": telemetry.events,
            "commands": telemetry.commands,
            "dead_letters": telemetry.dead_letters,
            "outcomes": dict(bridge.outcomes()),
        },
        "history": telemetry.history_json(),
        "lag": [{"topic": p.topic, "partition": p.partition, "lag": p.lag} for p in telemetry.lag]
        if telemetry.lag is not None
        else None,
        "backlog": telemetry.backlog,
        "last_error": telemetry.last_error,
        "stalled": [stall.as_json(time.time()) for stall in telemetry.progress.stalls],
        "store_writes": telemetry.progress.store_failure(),
        "dead_letters": [],
        "recent_commands": [],
        "store_error": None,
    }
    if telemetry.read_engine is not None:
        try:
            async with telemetry.read_engine.connect() as conn:
                data["dead_letters"] = await store_status.dead_letter_counts(conn)
                data["recent_commands"] = await store_status.recent_commands(conn)
        except Exception as error:  # noqa: BLE001 - the page still shows the rest
            data["store_error"] = type(error).__name__
    return data
