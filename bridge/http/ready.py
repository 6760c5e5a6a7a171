"""Readiness: the broker answers, the store answers, valid mappings are loaded.

``GET /ready`` → 200 when every check passes, 503 otherwise; the JSON body says which check
failed and why (error classes and mapping diagnostics only — no data).
"""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING, Any

from sqlalchemy import text

from bridge.observability import telemetry_of

if TYPE_CHECKING:
    from bridge.app import Bridge

CHECK_TIMEOUT_S = 3.0


async def readiness(bridge: "Bridge") -> dict[str, Any]:
    """{"ready": bool, "checks": {"broker": {...}, "store": {...}, "mappings": {...}}}."""
    broker, store = await asyncio.gather(_broker(bridge), _store(bridge))
    checks = {"broker": broker, "store": store, "mappings": _mappings(bridge)}
    telemetry = telemetry_of(bridge)
    return {"ready": all(c["ok"] for c in checks.values()), "checks": checks,
            "last_error": telemetry.last_error, "instance_id": bridge.settings.instance_id}


async def _broker(bridge: "Bridge") -> dict[str, Any]:
    try:
        ok = bool(await asyncio.wait_for(bridge.broker.ping(timeout=CHECK_TIMEOUT_S),
                                         timeout=CHECK_TIMEOUT_S + 1))
    except Exception as error:  # noqa: BLE001 - any failure means "not reachable"
        return {"ok": False, "error": type(error).__name__}
    return {"ok": ok} if ok else {"ok": False, "error": "no answer from the broker"}


async def _store(bridge: "Bridge") -> dict[str, Any]:
    engine = telemetry_of(bridge).read_engine
    if engine is None:
        return {"ok": False, "error": "not started"}
    try:
        async with asyncio.timeout(CHECK_TIMEOUT_S):
            async with engine.connect() as conn:
                await conn.execute(text("SELECT 1"))
    except Exception as error:  # noqa: BLE001
        return {"ok": False, "error": type(error).__name__}
    return {"ok": True}


def _mappings(bridge: "Bridge") -> dict[str, Any]:
    reloader = bridge.reloader
    if reloader is None:
        return {"ok": False, "error": "mappings not loaded yet"}
    last = reloader.last_error
    rejection = None
    if last is not None:
        first = last.diagnostics[0].format().splitlines()[0] if last.diagnostics else str(last)
        rejection = {"errors": len(last.diagnostics), "first": first}
    return {"ok": True, "version": reloader.active.version,
            "content_hash": reloader.active.content_hash, "reloads": reloader.reload_count,
            "rejected": reloader.rejected_count, "last_rejection": rejection}
