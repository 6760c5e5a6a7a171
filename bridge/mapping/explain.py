"""Why each table map was or was not chosen for one record (for `render` and support)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from bridge.mapping.compiled import MapCandidate, TableMapRule, truthy
from bridge.mapping.diagnostics import MappingError
from connectors.catalog import lineage


def explain(
    maps: Iterable[TableMapRule], source_table: str, target_table: str, data: dict[str, Any]
) -> tuple[MapCandidate, ...]:
    """Each of ``maps`` that writes ``target_table``, with why it was or was not chosen."""
    ancestors = lineage(source_table) or (source_table,)
    verdicts: list[tuple[TableMapRule, str | None]] = []  # None: it matches
    for rule in sorted((m for m in maps if m.target_table == target_table), key=TableMapRule.precedence):
        verdicts.append((rule, _mismatch(rule, ancestors, source_table, data)))
    chosen = next((rule for rule, why in verdicts if why is None), None)
    out = []
    for rule, why in verdicts:
        if rule is chosen:
            reason = _chosen_reason(rule, [r for r, w in verdicts if w is None and r is not rule])
        elif why is None and chosen is not None:
            reason = (
                f"matches, but declared after '{chosen.name}' with the same order {rule.order}"
                if rule.order == chosen.order
                else f"matches, but its order {rule.order} is lower than '{chosen.name}' ({chosen.order})"
            )
        else:
            reason = why or "not chosen"
        out.append(MapCandidate(rule.name, rule.where, rule.order, rule is chosen, reason))
    return tuple(out)


def _mismatch(rule: TableMapRule, ancestors: tuple[str, ...], source_table: str, data: dict[str, Any]) -> str | None:
    if rule.source_table not in ancestors:
        return f"source table '{rule.source_table}' is neither '{source_table}' nor a table it extends"
    if not rule.active:
        return "inactive"
    if rule.condition is None:
        return None
    try:
        matched = truthy(rule.condition.search(data, f"{rule.name}.condition"))
    except MappingError as error:
        return f"condition failed: {error.detail}"
    return None if matched else f"condition is false: {rule.condition.text}"


def _chosen_reason(rule: TableMapRule, others: list[TableMapRule]) -> str:
    via = (
        ""
        if not others
        else (
            f"; highest order among {len(others) + 1} matching maps"
            if all(o.order < rule.order for o in others)
            else "; same order as another matching map, declared first"
        )
    )
    return f"chosen (order {rule.order}{via})"
