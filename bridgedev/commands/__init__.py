"""The development commands the ``bridge`` CLI adds when this package is installed."""

from __future__ import annotations

import typer

from bridgedev.commands.demo import demo_command
from bridgedev.commands.kafka import app as kafka_app
from bridgedev.commands.simulate import app as simulate_app


def register(app: typer.Typer) -> None:
    """Add ``demo``, ``kafka`` and ``simulate`` to the ``bridge`` CLI."""
    app.command("demo")(demo_command)
    app.add_typer(kafka_app, name="kafka", help="Run a local Apache Kafka broker (KRaft) from Maven Central jars.")
    app.add_typer(simulate_app, name="simulate", help="Simulated CSM, FSM and ITSM systems.")
