"""The layout shows the architecture: imports between the bridge's packages flow one way.

Read from the source (module-level imports; a ``TYPE_CHECKING`` block or an import inside a
function is a dependency at run time only, where it is one, and stays out of the graph).
"""

from __future__ import annotations

import ast
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _package(module: str) -> str:
    parts = module.split(".")
    return ".".join(parts[:2]) if parts[0] == "bridge" and len(parts) > 1 else parts[0]


def _graph() -> dict[str, set[str]]:
    """Package → the packages its modules import at module level."""
    graph: dict[str, set[str]] = defaultdict(set)
    for path in (ROOT / "bridge").rglob("*.py"):
        if "migrations" in path.parts:  # Alembic's scripts: the schema's composition root
            continue
        module = ".".join(path.relative_to(ROOT).with_suffix("").parts).removesuffix(".__init__")
        for node in ast.parse(path.read_text()).body:
            if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                targets = [node.module]
            elif isinstance(node, ast.Import):
                targets = [alias.name for alias in node.names]
            else:
                continue
            for target in targets:
                if target.startswith("bridge.") and _package(target) != _package(module):
                    graph[_package(module)].add(_package(target))
    return graph


def test_no_two_packages_import_each_other() -> None:
    graph = _graph()
    assert [(a, b) for a, targets in graph.items() for b in targets if a in graph.get(b, set())] == []


def test_the_layers_of_a_batch_import_downwards_only() -> None:
    """consumer → runtime → pipeline → flows → store: flows decide (no pipeline, no SQL
    session), the store knows neither the flows nor the pipeline."""
    graph = _graph()
    assert "bridge.pipeline" not in graph["bridge.flows"]
    assert not graph["bridge.store"] & {"bridge.flows", "bridge.pipeline", "bridge.visibility"}
    assert not graph["bridge.mapping"] & {"bridge.flows", "bridge.pipeline", "bridge.store"}
    assert "bridge" not in {p.split(".")[0] for p in _imports_of(ROOT / "connectors")}


def _imports_of(folder: Path) -> set[str]:
    return {module for path in folder.rglob("*.py") for module in _imports_of_file(path)}


def test_only_the_entry_points_import_the_composition_root() -> None:
    """``bridge.app`` builds and wires everything; the parts see it through small protocols
    (``ServedBridge``, ``ObservedBridge``), so only the commands and the demo, which start a
    bridge, import it — at run time or for type checking alike."""
    importers = set()
    for path in (ROOT / "bridge").rglob("*.py"):
        module = ".".join(path.relative_to(ROOT).with_suffix("").parts)
        if "bridge.app" in _imports_of_file(path) and module != "bridge.app":
            importers.add(_package(module))
    assert importers <= {"bridge.commands", "bridgedev.demo"}, importers


def _imports_of_file(path: Path) -> set[str]:
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module)
        elif isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
    return found
