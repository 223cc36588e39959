"""``lamina runs list``: the runs in a folder with their status and final metrics."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from lamina.cli.app import console, handle_errors, runs_app

__all__ = ["list_runs_cmd"]


@runs_app.command("list")
@handle_errors
def list_runs_cmd(root: Annotated[Path, typer.Argument(help="Folder holding run folders.")] = Path("runs")) -> None:
    """A table of runs (newest first): status, epochs, final validation and test metrics."""
    from lamina.train.runs import list_runs

    runs = list_runs(root)
    if not runs:
        console.print(f"no runs in {root}")
        return
    table = Table("run", "status", "epochs", "final", "test", "time")
    for run in runs:
        s = run.summary
        final = {k: v for k, v in (s.get("final") or {}).items() if k.startswith("val_") or k in ("loss", "accuracy")}
        fmt = lambda d: "  ".join(f"{k} {v:.4g}" for k, v in d.items() if isinstance(v, (int, float)))  # noqa: E731
        table.add_row(
            run.dir.name,
            s.get("status", "?"),
            str(s.get("epochs", "")),
            fmt(final),
            fmt(s.get("test") or {}),
            f"{s.get('wall_time_s', 0):.0f}s",
        )
    console.print(table)
