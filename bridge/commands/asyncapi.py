"""`bridge asyncapi`: write the AsyncAPI document of the bridge (``docs/asyncapi.yaml``).

The document is FastStream's, generated from the application the composition root builds, with
the bridge's messages described (``bridge.observability.asyncapi``). Built here, beside the
command that writes it, so that nothing below the composition root imports it.
``python -m bridge.commands.asyncapi`` rewrites the committed document.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import typer
import yaml

from bridge.observability.asyncapi import add_event_channels, describe_messages
from bridge.settings import Settings

#: The committed document (a test fails when it is stale).
DOCUMENT = Path(__file__).resolve().parents[2] / "docs" / "asyncapi.yaml"

app = typer.Typer()


def asyncapi_document(settings: Settings | None = None) -> dict[str, Any]:
    """The document for ``settings`` (the built-in defaults when None: not the environment's)."""
    from bridge.app import create_bridge

    settings = settings or Settings.model_construct()
    document: dict[str, Any] = create_bridge(settings).app.schema.to_specification().to_jsonable()
    add_event_channels(document, settings.topics)
    describe_messages(document, settings.topics)
    return document


class _Dumper(yaml.SafeDumper):
    """Writes a schema shared by several messages in full at each place, never as an alias."""

    def ignore_aliases(self, data: Any) -> bool:
        return True


def asyncapi_yaml(settings: Settings | None = None) -> str:
    """`asyncapi_document` as YAML."""
    # Sorted keys: FastStream lists publishers in no stable order.
    text: str = yaml.dump(asyncapi_document(settings), Dumper=_Dumper, sort_keys=True, allow_unicode=True, width=100)
    return text


@app.callback(invoke_without_command=True)
def asyncapi_command(
    output: Path = typer.Option(DOCUMENT, "--output", "-o", help="Where to write it."),
) -> None:
    """Write the AsyncAPI document of the bridge's default settings."""
    output.write_text(asyncapi_yaml())
    typer.echo(f"wrote {output}", err=True)


if __name__ == "__main__":
    app()
