"""``lamina diagnose RUN``: gradient flow, Jacobian spectra, unit statistics and feature views of a trained run, on a
batch of its data; tables on the terminal, figures in the run's ``plots/`` and its refreshed ``report.html``."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from lamina import files, jsonio
from lamina.cli.app import app, console, fail, handle_errors

__all__ = ["diagnose"]

_SPLITS = {"train": 0, "validation": 1, "val": 1, "test": 2}


@app.command()
@handle_errors
def diagnose(
    run: Annotated[Path, typer.Argument(help="A run folder.")],
    split: Annotated[
        str | None, typer.Option(help="train, validation or test (default: validation if held out, else test).")
    ] = None,
    examples: Annotated[int, typer.Option(help="Examples in the batch (a seeded random sample of the split).")] = 512,
    layer: Annotated[str | None, typer.Option(help="Layer to embed (default: the one below the output).")] = None,
    embedding: Annotated[str, typer.Option(help="pca or tsne.")] = "pca",
    seed: Annotated[int, typer.Option(help="Seed of the sample and of t-SNE.")] = 0,
) -> None:
    """Diagnose a trained network: is the gradient vanishing or exploding, are units dead or saturated, what do
    the first layer and the hidden representation look like."""
    import torch

    from lamina.diagnostics import diagnose as run_diagnostics
    from lamina.train.run_outputs import write_run_outputs
    from lamina.train.runs import Run

    if split is not None and split not in _SPLITS:
        raise fail(f"unknown split {split!r}; choose train, validation or test")
    if embedding not in ("pca", "tsne"):
        raise fail(f"--embedding must be 'pca' or 'tsne', got {embedding!r}")
    if examples < 3:
        raise fail(f"--examples must be at least 3, got {examples}")
    opened = Run.open(run)
    model = opened.model
    splits = opened.splits
    if split is None:
        split = "validation" if splits.validation is not None else "test" if splits.test is not None else "train"
    data = splits[_SPLITS[split]]
    if data is None:
        raise fail(f"this experiment has no {split} split (set [data] validation to hold one out)")
    index = torch.randperm(len(data), generator=torch.Generator().manual_seed(seed))[:examples]
    batch = data.subset(index.sort().values)
    loss = None if hasattr(model, "training_loss") else opened.experiment.train.loss
    console.print(f"diagnosing {opened.dir.name} on {len(batch)} {split} examples")
    result = run_diagnostics(
        model,
        (batch.x, batch.targets),
        loss=loss,
        folder=opened.dir / "plots",
        layer=layer,
        embedding=embedding,
        classes=batch.classes,
        seed=seed,
        title=opened.experiment.name or opened.dir.name,
    )
    for title, text in result.sections():
        console.rule(title)
        console.print(text, markup=False, highlight=False, soft_wrap=True)
    files.write_text(
        opened.dir / "diagnostics.json",
        jsonio.dumps({"split": split, "examples": len(batch), **result.to_dict()}, indent=2) + "\n",
    )
    write_run_outputs(opened.dir, opened.experiment, opened.summary, model)
    console.print(
        f"wrote {len(result.figures)} figures to {opened.dir / 'plots'}, "
        f"{opened.dir / 'diagnostics.json'} and {opened.dir / 'report.html'}"
    )
