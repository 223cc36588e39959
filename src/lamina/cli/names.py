"""``lamina names [KIND [NAME]]``: the registered names usable in experiment files, each with its options; one
component's full option table (type, bounds, default, description).

Read from the generated index ``names_index.json`` (:mod:`lamina.cli.catalog`), so the command imports neither torch
nor pydantic; with ``lamina.plugins`` entry points installed it reads the live registry instead.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.markup import escape
from rich.padding import Padding
from rich.table import Table
from rich.text import Text

from lamina import jsonio
from lamina.cli.app import app, console, fail, handle_errors
from lamina.errors import did_you_mean
from lamina.registry import KINDS, plugins_installed

__all__ = ["INDEX_PATH", "load_catalog", "names"]

INDEX_PATH = Path(__file__).with_name("names_index.json")


def load_catalog() -> dict[str, Any]:
    """``{kind: {"key": ..., "components": {name: {"aliases", "summary", "options"}}}}``: the generated index, or the
    live registry where plugins are installed (their components are in no file)."""
    if plugins_installed():
        from lamina.cli.catalog import build_catalog

        return build_catalog()
    return json.loads(INDEX_PATH.read_text(encoding="utf-8"))


def _option_list(options: list[dict[str, str]]) -> str:
    return ", ".join(o["name"] + (" (required)" if o["default"] == "required" else "") for o in options)


def _list_kind(kind: str, entry: dict[str, Any]) -> None:
    console.print(f"[bold]{kind}[/] ({entry['key']} = ...)")
    for name, component in entry["components"].items():
        also = f" [dim](also {', '.join(component['aliases'])})[/]" if component["aliases"] else ""
        console.print(f"  [bold cyan]{name}[/]{also}  {escape(component['summary'])}", soft_wrap=True)
        if component["options"]:
            text = Text("options: ", style="dim").append(_option_list(component["options"]))
            console.print(Padding(text, (0, 0, 0, 6), expand=False))


def _show_component(kind: str, name: str, entry: dict[str, Any]) -> None:
    components = entry["components"]
    canonical = {alias: n for n, c in components.items() for alias in c["aliases"]}
    found = components.get(canonical.get(name, name))
    if found is None:
        known = [*components, *canonical]
        raise fail(f"unknown {kind} {name!r};{did_you_mean(name, known)} see: lamina names {kind}")
    name = canonical.get(name, name)
    also = f" (also {', '.join(found['aliases'])})" if found["aliases"] else ""
    console.print(f"[bold]{kind} {name}[/]{escape(also)}: {escape(found['summary'])}", soft_wrap=True)
    if not found["options"]:
        console.print("no options")
        return
    table = Table()
    table.add_column("option", no_wrap=True)  # an option's name is what the user types: never cut
    for column in ("type", "bounds", "default", "description"):
        table.add_column(column, overflow="fold")
    for option in found["options"]:
        table.add_row(*(escape(option[c]) for c in ("name", "type", "bounds", "default", "description")))
    console.print(table)
    quoted = jsonio.dumps(name)
    console.print(f"[dim]in an experiment file: {{ {entry['key']} = {quoted}, <option> = <value>, ... }}[/]")


@app.command()
@handle_errors
def names(
    kind: Annotated[
        str | None,
        typer.Argument(
            help="layer, activation, initializer, loss, optimizer, schedule, dataset, callback, metric, pretrain"
        ),
    ] = None,
    name: Annotated[str | None, typer.Argument(help="One component of KIND: its full option table.")] = None,
) -> None:
    """List the registered names usable in experiment files, each with a line of description and its options;
    with KIND and NAME, that component's option table (type, bounds, default, description)."""
    if kind is not None and kind not in KINDS:
        raise fail(f"unknown kind {kind!r};{did_you_mean(kind, KINDS)} choose one of {', '.join(KINDS)}")
    catalog = load_catalog()
    if kind is not None and name is not None:
        _show_component(kind, name, catalog[kind])
        return
    for k in [kind] if kind else list(KINDS):
        _list_kind(k, catalog[k])
