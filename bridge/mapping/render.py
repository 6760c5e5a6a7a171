"""A dry run of one contract event against a mapping set (`bridge mappings render`)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from bridge.mapping import vocabulary
from bridge.mapping.diagnostics import MappingError
from bridge.mapping.engine import MappingSet
from connectors.catalog import TABLES, lineage


def render_event(
    mapping_set: MappingSet, event: Mapping[str, Any], related: Mapping[str, Mapping[str, Any]] | None = None
) -> dict[str, Any]:
    """What the mappings would do with `event`, as data (the CLI prints it)."""
    table = str(event.get("table", ""))
    raw_record = event.get("record")
    record: Mapping[str, Any] = raw_record if isinstance(raw_record, dict) else {}
    report: dict[str, Any] = {
        "event": {k: event.get(k) for k in ("source", "table", "operation", "action", "sys_id")},
        "mappings": {"version": mapping_set.version, "content_hash": mapping_set.content_hash},
        "candidates": [],
        "command": None,
        "error": None,
        "rules": [],
    }
    target = vocabulary.ACTION_TARGETS.get(str(event.get("action") or ""))
    if event.get("operation") == "action" and target:
        report["target_table"] = target
        raw_args, raw_sys_id = event.get("action_args"), event.get("sys_id")
        args: Mapping[str, Any] = raw_args if isinstance(raw_args, dict) else {}
        sys_id = raw_sys_id if isinstance(raw_sys_id, str) else None
        candidates = mapping_set.explain_map_choice(
            table, target, record, related or {}, action_args=args, sys_id=sys_id
        )
        report["candidates"] = [
            {"name": c.name, "where": c.where, "order": c.order, "chosen": c.chosen, "reason": c.reason}
            for c in candidates
        ]
        try:
            result = mapping_set.map_record(table, target, record, related or {}, action_args=args, sys_id=sys_id)
        except MappingError as error:
            report["error"] = str(error)
            return report
        if result is None:
            report["rules"].append(f"no active map from '{table}' to '{target}' applies: nothing is emitted")
        else:
            report["command"] = {
                "target": TABLES[target].system,
                "table": target,
                "operation": "insert",
                "map": result.map_name,
                "fields": result.fields,
                "mapping_version": mapping_set.version,
                "mapping_hash": mapping_set.content_hash,
            }
        return report
    report["rules"] = _other_rules(mapping_set, table, event)
    return report


def _other_rules(mapping_set: MappingSet, table: str, event: Mapping[str, Any]) -> list[str]:
    rules: list[str] = []
    changed = [f for f in event.get("changed_fields") or [] if isinstance(f, str)]
    for target in TABLES:
        sync = mapping_set.sync_table(table, target)
        if sync is None:
            continue
        for name in changed:
            policy = sync.policies.get(name)
            to = sync.rename.get(name, name)
            if policy is None:
                rules.append(f"sync {table}.{name} → {target}: never (no policy)")
            elif policy == "always":
                rules.append(f"sync {table}.{name} → {target}.{to}: always")
            else:
                rules.append(f"sync {table}.{name} → {target}.{to}: unless the {target} is {', '.join(sorted(policy))}")
    families = {family for family, t in vocabulary.NOTE_FAMILY_TABLE.items() if t in (lineage(table) or (table,))}
    keys = [k for k in mapping_set.note_keys() if k.split(".")[0] in families]
    if keys:
        rules.append(f"work-note templates for {table} events: {', '.join(keys)}")
    if event.get("operation") == "action":
        rules.append(f"action '{event.get('action')}' creates no record through the mappings")
    return rules or [f"no mapping rule applies to {table} {event.get('operation')} events"]
