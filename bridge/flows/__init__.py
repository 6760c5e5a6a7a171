"""Domain flows, routed by (table, operation, action).

Each flow module exports ``ROUTES``: the events it handles. The router is built once; finding the
handlers of an event is one dictionary lookup, whatever the number of flows or mapping rules.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from typing import TYPE_CHECKING, Awaitable, Callable, Iterable

from connectors.catalog import TABLES, lineage

if TYPE_CHECKING:
    from bridge.flows.context import FlowContext
    from connectors.common import Event

Handler = Callable[["FlowContext"], Awaitable[None]]


@dataclass(frozen=True, slots=True)
class Route:
    """``handler`` runs for events on ``table`` (or a table extending it) with one of
    ``operations``; for ``action`` events, only when the action is ``action``."""

    table: str
    operations: tuple[str, ...]
    handler: Handler
    action: str | None = None


class Router:
    def __init__(self, routes: Iterable[Route]) -> None:
        index: dict[tuple[str, str, str | None], list[Handler]] = defaultdict(list)
        routes = list(routes)
        for table in TABLES:
            ancestry = lineage(table)
            for route in routes:
                if route.table in ancestry:
                    for operation in route.operations:
                        index[(table, operation, route.action)].append(route.handler)
        self._index = dict(index)

    def handlers_for(self, event: "Event") -> list[Handler]:
        action = event.action if event.operation == "action" else None
        return self._index.get((event.table, event.operation, action), [])


def default_router() -> Router:
    """All the bridge's flows."""
    from bridge.flows import (
        major_cases,
        order_cases,
        related_notes,
        related_records,
        work_order_inputs,
        work_order_news,
        work_order_sync,
        work_orders,
    )

    # Order matters within one event: a case's related-record links move before the
    # major-case rules read them.
    return Router(
        [
            *work_orders.ROUTES,
            *work_order_sync.ROUTES,
            *work_order_inputs.ROUTES,
            *work_order_news.ROUTES,
            *order_cases.ROUTES,
            *related_records.ROUTES,
            *related_notes.ROUTES,
            *major_cases.ROUTES,
        ]
    )
