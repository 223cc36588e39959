"""``lamina data list|verify|path``: the registered datasets and their files."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.markup import escape
from rich.table import Table

from lamina.cli.app import console, data_app, fail, handle_errors
from lamina.cli.text import summary
from lamina.errors import ChecksumError
from lamina.registry import registry

__all__ = ["list_", "verify", "path"]


def _specs(name: str | None):
    from lamina.data import available

    specs = available()
    if name is None:
        return specs
    if name not in specs:
        raise fail(registry("dataset").unknown_message(name))
    return {name: specs[name]}


@data_app.command("list")
@handle_errors
def list_() -> None:
    """Registered datasets, their files and whether a local copy exists."""
    from lamina.data import data_home, locate

    table = Table("dataset", "files", "local copy", "description")
    for name, cls in _specs(None).items():
        files = list(cls.files.values())
        found = sum(locate(f) is not None for f in files)
        local = "bundled/generated" if not files else f"{found}/{len(files)}"
        table.add_row(name, str(len(files)), local, escape(summary(cls.__doc__)))
    console.print(table)
    console.print(f"LAMINA_DATA: {data_home() or '(not set)'}")


@data_app.command()
@handle_errors
def verify(name: Annotated[str | None, typer.Argument(help="A dataset (default: all).")] = None) -> None:
    """Check every local file of a dataset against its registered sha256."""
    from lamina.data import locate
    from lamina.data import verify as verify_file

    bad = missing = 0
    for dataset, cls in _specs(name).items():
        for file in cls.files.values():
            path = locate(file)
            if path is None:
                missing += 1
                console.print(f"[yellow]missing[/] {dataset}: {file.relpath}")
                continue
            try:
                verify_file(file, path)
                console.print(f"[green]ok[/]      {dataset}: {path}")
            except ChecksumError as err:
                bad += 1
                console.print(f"[red]BAD[/]     {err}")
    if bad:
        raise typer.Exit(1)
    console.print(f"{missing} missing file(s)" if missing else "all files present and verified")


@data_app.command()
@handle_errors
def path(name: Annotated[str, typer.Argument(help="A dataset.")]) -> None:
    """Where a dataset's files are (or would be downloaded to)."""
    from lamina.data import cache_home, locate

    for file in _specs(name)[name].files.values():
        found = locate(file)
        print(found if found else f"{cache_home() / file.relpath} (not downloaded)")
