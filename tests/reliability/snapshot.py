"""What a run left in the store, in a comparable form, and the differences between two runs.

Compared: records (latest version and data), links, every visibility table, the dedupe table's
outcome per event, and the counters that do not depend on how often an event was delivered
(``events.in`` and ``events.duplicate`` grow with redeliveries, which are allowed).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncConnection

from bridge.store.engine import create_engine
from bridge.store.schema import counters, links, metadata, processed_events, records

#: counters that count deliveries rather than effects
DELIVERY_COUNTERS = ("events.in", "events.duplicate")


@dataclass(frozen=True)
class StoreSnapshot:
    tables: dict[str, frozenset[tuple[Any, ...]]]
    counters: dict[str, int]

    def differences(self, other: "StoreSnapshot", limit: int = 5) -> dict[str, Any]:
        """Per table: rows only here and rows only there (a few of each); empty when equal."""
        found: dict[str, Any] = {}
        for name in sorted(self.tables.keys() | other.tables.keys()):
            mine, theirs = self.tables.get(name, frozenset()), other.tables.get(name, frozenset())
            if mine != theirs:
                found[name] = {
                    "only_here": sorted(mine - theirs, key=repr)[:limit],
                    "only_there": sorted(theirs - mine, key=repr)[:limit],
                    "counts": (len(mine), len(theirs)),
                }
        effect = {k: v for k, v in self.counters.items() if k not in DELIVERY_COUNTERS}
        other_effect = {k: v for k, v in other.counters.items() if k not in DELIVERY_COUNTERS}
        if effect != other_effect:
            keys = effect.keys() | other_effect.keys()
            found["counters"] = {
                k: (effect.get(k), other_effect.get(k)) for k in sorted(keys) if effect.get(k) != other_effect.get(k)
            }
        return found


def _canonical(value: Any) -> Any:
    if isinstance(value, (dict, list)):
        return json.dumps(value, sort_keys=True)
    return value


async def _rows(conn: AsyncConnection, table: Any, columns: list[Any]) -> frozenset[tuple[Any, ...]]:
    result = await conn.execute(select(*columns))
    return frozenset(tuple(_canonical(v) for v in row) for row in result)


async def take_snapshot(url: str) -> StoreSnapshot:
    """Read the comparable state of the store at ``url``."""
    engine = create_engine(url, writer=False)
    try:
        async with engine.connect() as conn:
            tables = {
                "records": await _rows(
                    conn,
                    records,
                    [
                        records.c.sys_id,
                        records.c.source,
                        records.c.table_name,
                        records.c.number,
                        records.c.sys_mod_count,
                        records.c.deleted,
                        records.c.data,
                    ],
                ),
                "links": await _rows(conn, links, [links.c.kind, links.c.from_id, links.c.to_id, links.c.attrs]),
                "processed_events": await _rows(
                    conn,
                    processed_events,
                    [processed_events.c.event_id, processed_events.c.outcome, processed_events.c.detail],
                ),
            }
            for name, table in sorted(metadata.tables.items()):
                if name.startswith("vis_"):
                    tables[name] = await _rows(conn, table, list(table.columns))
            counted = {r.name: int(r.value) for r in await conn.execute(select(counters))}
    finally:
        await engine.dispose()
    return StoreSnapshot(tables, counted)
