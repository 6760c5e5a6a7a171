"""``bridge status`` and the status page: what the store and the broker say about the bridge.

Store queries take a read connection; nothing here writes. Lag comes from the broker (the
group's committed offsets vs. end offsets); the running bridge's own view (active mapping,
last error) from its ``/ready`` endpoint when it answers.
"""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncConnection

from bridge.observability.lag import LagProbe
from bridge.settings import Settings
from bridge.store.schema import counters, dead_letters, outbox


async def dead_letter_counts(conn: AsyncConnection) -> list[dict[str, Any]]:
    """[{"reason", "status", "count"}], most frequent first."""
    rows = await conn.execute(
        select(dead_letters.c.reason_code, dead_letters.c.status, func.count()).group_by(
            dead_letters.c.reason_code, dead_letters.c.status
        )
    )
    found = [{"reason": r[0], "status": r[1], "count": int(r[2])} for r in rows]
    return sorted(found, key=lambda d: (-d["count"], d["reason"], d["status"]))


async def outbox_backlog(conn: AsyncConnection) -> int:
    return int(
        (await conn.execute(select(func.count()).select_from(outbox).where(outbox.c.sent_at.is_(None)))).scalar_one()
    )


async def recent_commands(conn: AsyncConnection, limit: int = 15) -> list[dict[str, Any]]:
    """The latest commands written to the outbox (ids and targets, never payloads)."""
    rows = (
        (
            await conn.execute(
                select(
                    outbox.c.message_id,
                    outbox.c.target,
                    outbox.c.target_table,
                    outbox.c.target_sys_id,
                    outbox.c.rule,
                    outbox.c.mapping_version,
                    outbox.c.created_at,
                    outbox.c.sent_at,
                )
                .where(outbox.c.kind == "command")
                .order_by(outbox.c.seq.desc())
                .limit(limit)
            )
        )
        .mappings()
        .all()
    )
    return [dict(r) for r in rows]


async def event_counters(conn: AsyncConnection) -> dict[str, int]:
    """The store's monotonic counters (``events.in``, ``events.applied``, ``commands.…``)."""
    return {
        r[0]: int(r[1]) for r in await conn.execute(select(counters.c.name, counters.c.value).order_by(counters.c.name))
    }


async def consumer_lag(settings: Settings) -> list[dict[str, Any]]:
    """Per partition of the event topics: committed offset, end offset, lag."""
    async with LagProbe(settings) as probe:
        return [
            {
                "topic": p.topic,
                "partition": p.partition,
                "committed": p.committed,
                "end_offset": p.end_offset,
                "lag": p.lag,
            }
            for p in await probe.sample()
        ]


def running_bridge(settings: Settings, timeout_s: float = 3.0) -> dict[str, Any] | None:
    """The running bridge's ``/ready`` body, or None when nothing answers on its HTTP port."""
    host = "127.0.0.1" if settings.http.host in ("0.0.0.0", "::") else settings.http.host
    url = f"http://{host}:{settings.http.port}/ready"
    try:
        with urllib.request.urlopen(url, timeout=timeout_s) as response:  # http:// only, to our own port
            body: dict[str, Any] = json.loads(response.read())
            return body
    except urllib.error.HTTPError as error:  # 503: not ready, but it answered
        try:
            body = json.loads(error.read())
            return body
        except ValueError:
            return None
    except (OSError, ValueError):
        return None


#: ``bridge status``'s verdicts and their exit codes.
OK, DEGRADED, DOWN = "ok", "degraded", "down"
EXIT_CODES = {OK: 0, DEGRADED: 1, DOWN: 2}


def assess(report: dict[str, Any], checks: dict[str, Any] | None) -> tuple[str, list[str]]:
    """The verdict on a ``bridge status`` report, and the problems behind it, worst first.

    Down: the broker, the store or the running bridge cannot be reached (nothing moves).
    Degraded: the bridge answers but is not ready (a stalled partition, a store that cannot be
    written, a check failing), or the mapping folder is invalid (the next start would fail).
    ``checks``: the running bridge's readiness checks, when it answered.
    """
    down: list[str] = []
    degraded: list[str] = []
    if report.get("lag") is None:
        down.append(f"broker: not reachable ({report.get('lag_error')})")
    if report.get("store_error"):
        down.append(f"store: not readable ({report['store_error']})")
    bridge = report["bridge"]
    if not bridge["reachable"]:
        down.append("bridge: no answer on its HTTP port")
    elif not bridge["ready"]:
        failing = [
            f"{name}: {check.get('error', 'failing')}" for name, check in (checks or {}).items() if not check.get("ok")
        ]
        degraded += failing or ["bridge: not ready"]
    folder = report["mappings"]["folder"]
    if "error" in folder:
        degraded.append(f"mappings: the folder is invalid ({folder['error']})")
    return (DOWN if down else DEGRADED if degraded else OK), down + degraded
