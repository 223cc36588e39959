"""``lamina train``, ``lamina evaluate``, ``lamina report``."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Annotated

import typer

import lamina
from lamina.cli.app import app, console, fail, handle_errors

__all__ = ["train", "evaluate", "report"]


@app.command()
@handle_errors
def train(
    config: Annotated[Path | None, typer.Argument(help="Experiment file (TOML).")] = None,
    set_: Annotated[list[str], typer.Option("--set", "-s", help="Override a value: --set train.epochs=5")] = [],
    out: Annotated[Path, typer.Option(help="Folder receiving the run folder.")] = Path("runs"),
    resume: Annotated[Path | None, typer.Option(help="Continue a run folder from its last checkpoint.")] = None,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="No progress output.")] = False,
) -> None:
    """Train the network an experiment file describes; prints the test metrics and the run folder."""
    if config is None and resume is None:
        raise fail("give an experiment file (lamina train CONFIG) or a run to --resume")
    if config is not None and resume is not None:
        raise fail("give either CONFIG or --resume RUN, not both (a resumed run uses its own config.toml)")
    run = lamina.train(config, out=out, resume=resume, overrides=set_, progress="none" if quiet else "auto")
    if os.environ.get("RANK", "0") != "0":  # under torchrun, rank 0 reports
        return
    summary = run.summary
    test = summary.get("test") or {}
    if summary.get("message"):
        console.print(f"[dim]{summary['message']}[/]")
    for name, value in test.items():
        label = f"test {name}"
        console.print(
            f"{label}: [bold]{value:.4f}[/]" + (f"  (error {100 * (1 - value):.2f}%)" if name == "accuracy" else "")
        )
    console.print(f"run folder: {run.dir}")


@app.command()
@handle_errors
def evaluate(
    run: Annotated[Path, typer.Argument(help="A run folder.")],
    split: Annotated[str, typer.Option(help="train, validation or test.")] = "test",
) -> None:
    """Loss and metrics of a trained run on one split."""
    from lamina.train.runs import Run

    if split not in ("train", "validation", "val", "test"):
        raise fail(f"unknown split {split!r}; choose train, validation or test")
    results = Run.open(run).evaluate(split)
    for name, value in results.items():
        console.print(f"{split} {name}: [bold]{value:.6g}[/]")


@app.command()
@handle_errors
def report(run: Annotated[Path, typer.Argument(help="A run folder.")]) -> None:
    """(Re)write a run's plots and report.html from its folder."""
    from lamina.train.run_outputs import write_run_outputs
    from lamina.train.runs import Run

    opened = Run.open(run)
    model = opened.model if (opened.dir / "checkpoints").is_dir() else None
    if model is None:
        raise fail(f"{run}: the run has no checkpoint yet, so there is no model to describe")
    write_run_outputs(opened.dir, opened.experiment, opened.summary, model)
    console.print(f"wrote {opened.dir / 'report.html'}")
