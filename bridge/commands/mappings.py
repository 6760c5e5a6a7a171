"""`bridge mappings` commands: validate, render (dry run), test, schema and init."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console

from bridge.mapping import MappingValidationError, load_mapping_set
from bridge.mapping.render import render_event
from bridge.mapping.schema import schema_text
from bridge.mapping.testing import collect, run_case
from bridge.settings import get_settings
from bridge.shipped import shipped_mappings_dir

app = typer.Typer(no_args_is_help=True)

JsonOption = Annotated[bool, typer.Option("--json", help="Machine-readable JSON on stdout.")]
PathArgument = Annotated[
    Path | None, typer.Argument(help="mapping folder or file (default: the configured mappings_dir)")
]


def _folder(path: Path | None) -> Path:
    return path if path is not None else get_settings().mappings_dir


def _fail_validation(error: MappingValidationError, as_json: bool) -> None:
    if as_json:
        typer.echo(
            json.dumps(
                {"valid": False, "diagnostics": [d.to_dict() for d in error.diagnostics]}, indent=2, ensure_ascii=False
            )
        )
    else:
        typer.echo(error.format(), err=True)
        typer.echo(f"{len(error.diagnostics)} error(s)", err=True)
    raise typer.Exit(1)


@app.command("validate")
def validate(path: PathArgument = None, as_json: JsonOption = False) -> None:
    """Check the mapping set; exit 0 when valid, 1 with every problem listed."""
    try:
        mapping_set = load_mapping_set(_folder(path))
    except MappingValidationError as error:
        _fail_validation(error, as_json)
        return
    summary = {
        "valid": True,
        "version": mapping_set.version,
        "content_hash": mapping_set.content_hash,
        "table_maps": len(mapping_set.maps),
        "notes": len(mapping_set.note_keys()),
    }
    typer.echo(
        json.dumps(summary, indent=2)
        if as_json
        else f"valid: version {mapping_set.version}, {summary['table_maps']} table maps, "
        f"{summary['notes']} note templates, hash {mapping_set.content_hash[:12]}"
    )


@app.command("render")
def render(
    event: Annotated[Path, typer.Option("--event", help="a contract event (JSON file)", exists=True, dir_okay=False)],
    mappings: Annotated[Path | None, typer.Option("--mappings", help="mapping folder (default: mappings_dir)")] = None,
    related: Annotated[
        Path | None, typer.Option("--related", help="JSON object: role → related record", exists=True)
    ] = None,
    as_json: JsonOption = False,
) -> None:
    """Dry run of one event: the map chosen (and why not the others) and the command emitted."""
    try:
        mapping_set = load_mapping_set(_folder(mappings))
    except MappingValidationError as error:
        _fail_validation(error, as_json)
        return
    try:
        payload = json.loads(event.read_text(encoding="utf-8"))
        roles = json.loads(related.read_text(encoding="utf-8")) if related else {}
    except (OSError, ValueError) as error:
        typer.echo(f"cannot read the event: {error}", err=True)
        raise typer.Exit(1) from None
    if not isinstance(payload, dict) or not isinstance(roles, dict):
        typer.echo("the event and --related must be JSON objects", err=True)
        raise typer.Exit(1)
    report = render_event(mapping_set, payload, roles)
    if as_json:
        typer.echo(json.dumps(report, indent=2, ensure_ascii=False))
    else:
        _print_report(report)
    if report["error"]:
        raise typer.Exit(1)


def _print_report(report: dict[str, Any]) -> None:
    console = Console(highlight=False, soft_wrap=True)
    ev, maps = report["event"], report["mappings"]
    console.print(
        f"[bold]{ev['source']} {ev['table']} {ev['operation']}[/bold] {ev['action'] or ''}"
        f"  (mappings {maps['version']}, {maps['content_hash'][:12]})",
        markup=True,
    )
    for candidate in report["candidates"]:
        mark = "[green]✔[/green]" if candidate["chosen"] else "[dim]✘[/dim]"
        console.print(f" {mark} {candidate['name']} ({candidate['where']}): {candidate['reason']}", markup=True)
    if report["command"]:
        command = report["command"]
        console.print(
            f"\n[bold]insert {command['target']}.{command['table']}[/bold] via {command['map']}:", markup=True
        )
        for name, value in command["fields"].items():
            console.print(f"   {name} = {value!r}", markup=False)
    for rule in report["rules"]:
        console.print(f" • {rule}", markup=False)
    if report["error"]:
        console.print(
            f"[red]mapping error[/red]: {report['error']} (the event would go to the dead-letter topic)", markup=True
        )


@app.command("test")
def test(path: PathArgument = None, as_json: JsonOption = False) -> None:
    """Run the YAML mapping tests in PATH/tests against the mappings in PATH."""
    folder = _folder(path)
    try:
        mapping_set = load_mapping_set(folder)
        cases = collect(folder / "tests")
    except MappingValidationError as error:
        _fail_validation(error, as_json)
        return
    outcomes = [run_case(mapping_set, case) for case in cases]
    failed = [o for o in outcomes if not o.passed]
    if as_json:
        typer.echo(
            json.dumps([{"test": o.case.id, "passed": o.passed, "message": o.message} for o in outcomes], indent=2)
        )
    else:
        for outcome in outcomes:
            verdict = "PASS" if outcome.passed else "FAIL"
            typer.echo(f"{verdict} {outcome.case.id}" + ("" if outcome.passed else f": {outcome.message}"))
        typer.echo(f"{len(outcomes) - len(failed)} passed, {len(failed)} failed")
    if failed or not outcomes:
        raise typer.Exit(1)


@app.command("schema")
def schema(
    output: Annotated[Path | None, typer.Option("--output", "-o", help="write here instead of stdout")] = None,
) -> None:
    """Print (or write) the JSON Schema of mapping files (draft-07, for editors)."""
    text = schema_text()
    if output is None:
        typer.echo(text, nl=False)
    else:
        output.write_text(text, encoding="utf-8")
        typer.echo(f"wrote {output}", err=True)


@app.command("init")
def init(
    folder: Annotated[Path, typer.Argument(help="where to write the shipped mapping set")],
    force: Annotated[bool, typer.Option("--force", help="overwrite files of the same name")] = False,
) -> None:
    """Write the shipped mapping set (YAML, its tests, the JSON Schema) into FOLDER for editing."""
    source = shipped_mappings_dir()
    files = sorted(p.relative_to(source) for p in source.rglob("*") if p.is_file() and "__pycache__" not in p.parts)
    if folder.exists() and not folder.is_dir():
        typer.echo(f"{folder} exists and is not a folder", err=True)
        raise typer.Exit(1)
    clashes = [name for name in files if (folder / name).exists()]
    if clashes and not force:
        typer.echo(
            f"{folder / clashes[0]} exists ({len(clashes)} of the {len(files)} files would be "
            "overwritten); pass --force to overwrite them",
            err=True,
        )
        raise typer.Exit(1)
    for name in files:
        (folder / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(source / name, folder / name)
    typer.echo(f"wrote {len(files)} files to {folder}; use it with BRIDGE_MAPPINGS_DIR={folder}", err=True)
