"""``lamina runs list``: the runs in a folder with their status and final metrics."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape
from rich.table import Table

from lamina.cli.app import console, handle_errors, runs_app

__all__ = ["list_runs_cmd"]


def _metrics(values: dict) -> str:
    return "  ".join(f"{k} {v:.4g}" for k, v in values.items() if isinstance(v, (int, float)))


@runs_app.command("list")
@handle_errors
def list_runs_cmd(
    root: Annotated[Path, typer.Argument(help="Folder holding run folders.")] = Path("runs"),
    plain: Annotated[
        bool,
        typer.Option(
            "--plain",
            help="One tab-separated line per run, for scripts: name, status, epochs, final metrics, test metrics, "
            "seconds.",
        ),
    ] = False,
) -> None:
    """A table of runs (newest first): status, epochs, final validation and test metrics. A run's name is never
    cut: the other columns wrap around it, or, in a narrow terminal, it folds onto more lines."""
    from lamina.train.runs import list_runs

    runs = list_runs(root)
    if not runs:
        if not plain:
            console.print(f"no runs in {root}")
        return
    rows = []
    for run in runs:
        s = run.summary
        final = {k: v for k, v in (s.get("final") or {}).items() if k.startswith("val_") or k in ("loss", "accuracy")}
        rows.append(
            (
                run.dir.name,
                str(s.get("status", "?")),
                str(s.get("epochs", "")),
                _metrics(final),
                _metrics(s.get("test") or {}),
                f"{s.get('wall_time_s', 0):.0f}",
            )
        )
    if plain:
        for row in rows:  # print, not rich: no wrapping, no markup, whatever the terminal's width
            print("\t".join(cell.replace("\t", " ").replace("\n", " ") for cell in row))
        return
    table = Table()
    # the name keeps its line while the other columns can wrap into about 44 characters; in a terminal narrower
    # than that it folds onto more lines, every character shown (never an ellipsis)
    fits = max(len(r[0]) for r in rows) + 44 <= console.width
    table.add_column("run", overflow="fold", no_wrap=fits)
    table.add_column("status", no_wrap=True)
    table.add_column("epochs", no_wrap=True, justify="right")
    table.add_column("final", overflow="fold")
    table.add_column("test", overflow="fold")
    table.add_column("time", no_wrap=True, justify="right")
    for row in rows:
        table.add_row(*(escape(c) for c in row[:-1]), f"{row[-1]}s")
    console.print(table)
