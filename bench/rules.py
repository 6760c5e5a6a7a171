"""A copy of the shipped mappings plus many table maps that never apply to the workload.

Half of them map source tables the flows never create anything from (orders, consumers,
contacts…), the other half map cases to work orders under a condition that never holds and a
lower order than the shipped map. A fast engine pays for neither.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import yaml

from bridge.mapping import load_mapping_set

MAPPINGS = Path(__file__).resolve().parents[1] / "mappings"
_OTHER_SOURCES = (
    ("csm_order", "itsm", "sc_request"),
    ("csm_consumer", "itsm", "incident"),
    ("customer_contact", "itsm", "incident"),
    ("customer_account", "itsm", "problem"),
    ("csm_order_line_item", "fsm", "wm_order"),
)


def irrelevant_maps(count: int) -> list[dict[str, object]]:
    maps: list[dict[str, object]] = []
    for i in range(count):
        if i % 2:
            source, system, table = _OTHER_SOURCES[i % len(_OTHER_SOURCES)]
            maps.append(
                {
                    "name": f"bench_other_{i}",
                    "source_table": source,
                    "target": {"system": system, "table": table},
                    "fields": [{"field": "short_description", "set": f"bench rule {i}"}],
                }
            )
        else:
            maps.append(
                {
                    "name": f"bench_never_{i}",
                    "source_table": "sn_customerservice_case",
                    "target": {"system": "fsm", "table": "wm_order"},
                    "order": 50,
                    "condition": f"record.category == 'bench-never-{i}'",
                    "fields": [{"field": "short_description", "copy": "short_description"}],
                }
            )
    return maps


def mappings_with_extra_rules(directory: Path, count: int) -> Path:
    """``directory`` becomes the shipped mappings plus ``count`` irrelevant table maps (validated)."""
    if directory.exists():
        shutil.rmtree(directory)
    shutil.copytree(MAPPINGS, directory)
    extra = {"table_maps": irrelevant_maps(count)}
    (directory / "zz_bench_irrelevant.yaml").write_text(yaml.safe_dump(extra, sort_keys=False))
    load_mapping_set(directory)  # raises with diagnostics if the generated maps are invalid
    return directory
