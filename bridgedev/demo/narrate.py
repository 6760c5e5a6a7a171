"""Tell the story readably (rich): per scene, what the systems did, the commands the bridge sent
(one line each, then its fields and notes), and the outcome."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from rich.console import Console
from rich.markup import escape

from bridgedev.demo.story import Scene

Label = Callable[[str], str]
_REFERENCES = (
    "account",
    "contact",
    "partner",
    "partner_contact",
    "location",
    "company",
    "caller",
    "initiated_from",
    "asset",
)
_MAX_COMMANDS = 12


def tell_scene(console: Console, number: int, scene: Scene, label: Label) -> None:
    console.rule(f"[bold]{number}. {escape(scene.title)}")
    for line in scene.published:
        console.print(f"  [cyan]systems[/]  {escape(line)}")
    commands = [c for c in scene.commands if c["outcome"] != "duplicate"]
    if not commands:
        console.print("  [magenta]bridge[/]   stores what it learns; nothing to send")
    for command in commands[:_MAX_COMMANDS]:
        _tell_command(console, command, label)
    if len(commands) > _MAX_COMMANDS:
        console.print(f"           … and {len(commands) - _MAX_COMMANDS} more commands")
    for key, value in scene.facts.items():
        if not key.endswith("_fields"):  # shown with the command already
            _fact(console, key, value)


def _tell_command(console: Console, command: dict[str, Any], label: Label) -> None:
    console.print(
        f"  [magenta]bridge[/]   {command['operation']} [bold]{command['system']}.{command['table']}"
        f"[/] {escape(command['record'])} [dim]({command['outcome']})[/]"
    )
    fields = [f"{k}: {label(v) if k in _REFERENCES else v}" for k, v in command["fields"].items() if v]
    if fields:
        console.print("           " + escape(_short("; ".join(fields), 400)), style="dim")
    for text in command["journal"]:
        console.print(f"           note: “{escape(_short(text, 200))}”")


def _fact(console: Console, key: str, value: Any) -> None:
    title = key.replace("_", " ")
    if isinstance(value, dict):
        console.print(f"  [green]✓[/] {title}:")
        for name, items in value.items():
            shown = ", ".join(_short(str(i), 60) for i in items) if isinstance(items, list) else str(items)
            console.print(f"      {escape(name)}: {escape(shown) or '(none)'}")
    elif isinstance(value, list):
        console.print(f"  [green]✓[/] {title}:")
        for item in value:
            console.print(f"      • {escape(_short(str(item), 160))}")
    else:
        console.print(f"  [green]✓[/] {title}: [bold]{escape(str(value))}[/]")


def _short(text: str, limit: int) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"
