"""The hot path imports the mapping package for `MappingError` and `MappingSet` only: that must
not load the loader (pydantic models, YAML) or the reloader; their names still work."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[2]


def _modules_after(statement: str) -> set[str]:
    probe = f"import sys\n{statement}\nprint(' '.join(sorted(sys.modules)))"
    done = subprocess.run([sys.executable, "-c", probe], cwd=REPO_ROOT, capture_output=True, text=True, check=True)
    return set(done.stdout.split())


def test_the_errors_and_the_compiled_set_come_without_the_loader() -> None:
    loaded = _modules_after("from bridge.mapping import MappingError, MappingSet")

    assert {"bridge.mapping.engine", "bridge.mapping.diagnostics"} <= loaded
    assert not loaded & {"bridge.mapping.loader", "bridge.mapping.reload", "yaml", "pydantic"}


def test_the_loader_and_the_reloader_load_on_first_use() -> None:
    from bridge.mapping import MappingReloader, load_mapping_set
    from bridge.mapping.loader import load_mapping_set as from_the_loader
    from bridge.mapping.reload import MappingReloader as from_the_reloader

    assert (load_mapping_set, MappingReloader) == (from_the_loader, from_the_reloader)
