"""The ``bridge`` CLI with this area's sub-apps, as ``cli.py`` registers them (run with -m)."""

from __future__ import annotations

from bridge.commands import dlq, replay, status
from cli import app as bridge_app

_registered = {group.name for group in bridge_app.registered_groups}
if "replay" not in _registered:
    bridge_app.add_typer(replay.app, name="replay")
    bridge_app.add_typer(dlq.app, name="dlq")
    bridge_app.add_typer(status.app, name="status")

if __name__ == "__main__":
    bridge_app()
