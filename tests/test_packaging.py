"""A production install carries only the bridge: the development tools (``bridgedev``: the
simulated systems, the demo, the local Kafka launcher) are not in the wheel, the runtime never
imports them, and the CLI offers their commands only where they are installed."""

from __future__ import annotations

import json
import pkgutil
import subprocess
import sys
from pathlib import Path

import typer

import bridge
from cli import app

ROOT = Path(__file__).resolve().parents[1]
DEVELOPMENT_COMMANDS = {"demo", "kafka", "simulate"}

# Run in a fresh interpreter where importing ``bridgedev`` fails as it does when it is not
# installed; prints the CLI's commands and the bridge modules that failed to import.
_WITHOUT_BRIDGEDEV = """
import importlib, json, pkgutil, sys

class NotInstalled:
    def find_spec(self, name, path=None, target=None):
        if name.partition(".")[0] == "bridgedev":
            raise ModuleNotFoundError(f"No module named {name!r}", name=name)
        return None

sys.meta_path.insert(0, NotInstalled())
import bridge
from cli import app
failed = []
for module in pkgutil.walk_packages(bridge.__path__, "bridge."):
    if ".migrations" in module.name:  # Alembic's scripts run inside Alembic only
        continue
    try:
        importlib.import_module(module.name)
    except Exception as error:
        failed.append(f"{module.name}: {error!r}")
commands = [c.name for c in app.registered_commands] + [g.name for g in app.registered_groups]
print(json.dumps({"commands": commands, "failed": failed}))
"""


def _commands(typer_app: typer.Typer) -> set[str]:
    return {c.name or "" for c in typer_app.registered_commands} | {g.name or "" for g in typer_app.registered_groups}


def test_without_the_development_package_the_bridge_imports_and_its_cli_runs() -> None:
    done = subprocess.run(
        [sys.executable, "-c", _WITHOUT_BRIDGEDEV], cwd=ROOT, capture_output=True, text=True, check=True, timeout=120
    )
    found = json.loads(done.stdout)

    assert found["failed"] == []
    assert {"run", "status", "replay", "db"} <= set(found["commands"])
    assert not DEVELOPMENT_COMMANDS & set(found["commands"])


def test_a_development_install_adds_the_development_commands() -> None:
    assert DEVELOPMENT_COMMANDS <= _commands(app)


def test_the_runtime_package_does_not_import_the_development_tools() -> None:
    """Module level only: ``bridge run --local-kafka`` imports the local broker when asked."""
    offenders = []
    for module in pkgutil.walk_packages(bridge.__path__, "bridge."):
        path = ROOT / Path(*module.name.split("."))
        source = path / "__init__.py" if module.ispkg else path.with_suffix(".py")
        lines = source.read_text().splitlines()
        offenders += [
            f"{module.name}: {line}" for line in lines if line.startswith(("import bridgedev", "from bridgedev"))
        ]
    assert offenders == []
