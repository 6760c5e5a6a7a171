"""Readiness: the broker answers, the store answers, valid mappings are loaded, and the stream
moves: no partition of this instance holds still with lag, the store takes writes, and
``/health`` passes (and the consumer has started).

``GET /ready`` → 200 when every check passes, 503 otherwise; the JSON body says which check
failed and why (error classes, partitions and mapping diagnostics only — no data).
"""

from __future__ import annotations

import asyncio
import time
from typing import Any

from sqlalchemy import text

from bridge.http.view import ServedBridge

CHECK_TIMEOUT_S = 3.0


async def readiness(bridge: ServedBridge) -> dict[str, Any]:
    """{"ready": bool, "checks": {"broker", "store", "mappings", "partitions", "store_writes",
    "alive"}}: each {"ok": bool, "error": why not, …}."""
    broker, store = await asyncio.gather(_broker(bridge), _store(bridge))
    telemetry = bridge.telemetry
    checks = {
        "broker": broker,
        "store": store,
        "mappings": _mappings(bridge),
        "partitions": _partitions(bridge),
        "store_writes": _store_writes(bridge),
        "alive": _alive(bridge),
    }
    return {
        "ready": all(c["ok"] for c in checks.values()),
        "checks": checks,
        "last_error": telemetry.last_error,
        "instance_id": bridge.settings.instance_id,
    }


async def _broker(bridge: ServedBridge) -> dict[str, Any]:
    try:
        ok = await asyncio.wait_for(bridge.broker_answers(CHECK_TIMEOUT_S), timeout=CHECK_TIMEOUT_S + 1)
    except Exception as error:  # noqa: BLE001 - any failure means "not reachable"
        return {"ok": False, "error": type(error).__name__}
    return {"ok": ok} if ok else {"ok": False, "error": "no answer from the broker"}


async def _store(bridge: ServedBridge) -> dict[str, Any]:
    engine = bridge.telemetry.read_engine
    if engine is None:
        return {"ok": False, "error": "not started"}
    try:
        async with asyncio.timeout(CHECK_TIMEOUT_S):
            async with engine.connect() as conn:
                await conn.execute(text("SELECT 1"))
    except Exception as error:  # noqa: BLE001
        return {"ok": False, "error": type(error).__name__}
    return {"ok": True}


def _mappings(bridge: ServedBridge) -> dict[str, Any]:
    reloader = bridge.reloader
    if reloader is None:
        return {"ok": False, "error": "mappings not loaded yet"}
    last = reloader.last_error
    rejection = None
    if last is not None:
        first = last.diagnostics[0].format().splitlines()[0] if last.diagnostics else str(last)
        rejection = {"errors": len(last.diagnostics), "first": first}
    return {
        "ok": True,
        "version": reloader.active.version,
        "content_hash": reloader.active.content_hash,
        "reloads": reloader.reload_count,
        "rejected": reloader.rejected_count,
        "last_rejection": rejection,
    }


def _alive(bridge: ServedBridge) -> dict[str, Any]:
    """What ``/health`` says: a bridge that must be restarted is not ready either."""
    failure = bridge.liveness_failure()
    if failure is not None:
        return {"ok": False, "error": failure["why"]}
    return {"ok": True} if bridge.consuming() else {"ok": False, "error": "not consuming yet"}


def _partitions(bridge: ServedBridge) -> dict[str, Any]:
    """Stalled partitions of this instance, each with the last error the bridge saw."""
    telemetry = bridge.telemetry
    now = time.time()
    stalled = [{**stall.as_json(now), "last_error": telemetry.last_error} for stall in telemetry.progress.stalls]
    report: dict[str, Any] = {
        "ok": not stalled,
        "stalled": stalled,
        "stall_after_s": bridge.settings.probes.stall_after_s,
    }
    if stalled:
        names = ", ".join(f"{s['topic']}[{s['partition']}]" for s in stalled)
        report["error"] = f"not moving with lag: {names}"
    return report


def _store_writes(bridge: ServedBridge) -> dict[str, Any]:
    failure = bridge.telemetry.progress.store_failure()
    if failure is None:
        return {"ok": True}
    return {
        "ok": False,
        "error": f"no store write succeeded for {failure['failing_for_s']} s ({failure['error_class']})",
        **failure,
    }
