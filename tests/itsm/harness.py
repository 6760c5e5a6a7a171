"""The real batch processor and SQLite store, with the Case ↔ ITSM flows and chosen routing."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import yaml

from bridge.mapping import MappingSet, MappingSources, build_mapping_set
from bridge.mapping.loader import read_sources
from tests.pipeline.harness import MAPPINGS, Harness

DEFAULT_ROUTING = {
    "parent_child_case_sync": False,
    "case_fields_to_sync": [
        "priority",
        "state",
        "comments",
        "work_notes",
        "assigned_to",
        "close_notes",
        "resolution_code",
    ],
    "resolution_mode": "suggest",
    "late_children_get_earlier_notes": False,
}


def mappings_with(**routing: Any) -> MappingSet:
    """The shipped mappings with the routing section replaced (as an admin would edit it)."""
    sources = read_sources(MAPPINGS)
    files = dict(sources.files)
    [name] = [n for n in files if n.endswith("bridge.yaml")]
    text = yaml.safe_dump({"version": "2026.11.1-test", "routing": {**DEFAULT_ROUTING, **routing}}, sort_keys=False)
    files[name] = text.encode()
    return build_mapping_set(MappingSources(files, sources.lookups, sources.lookup_prefix))


#: Every flow is in the bridge's router, so the ITSM scenarios use the common harness.
ItsmHarness = Harness


def notes(commands: list[dict[str, Any]]) -> list[tuple[str, str]]:
    """(case sys_id, note text) of every work-note command."""
    return [(c["sys_id"], e["value"]) for c in commands for e in c["journal"]]


def write_mappings(folder: Path, **routing: Any) -> Path:
    """A copy of the shipped mappings folder with the routing section replaced."""
    shutil.copytree(MAPPINGS, folder, dirs_exist_ok=True)
    [bridge_yaml] = folder.glob("bridge.yaml")
    bridge_yaml.write_text(
        yaml.safe_dump({"version": "2026.11.1-test", "routing": {**DEFAULT_ROUTING, **routing}}, sort_keys=False)
    )
    return folder
