"""``lamina predict RUN INPUT``: the trained model's outputs for inputs in a .npy, .csv or .png file."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from lamina.cli.app import app, console, fail, handle_errors

__all__ = ["predict"]


@app.command()
@handle_errors
def predict(
    run: Annotated[Path, typer.Argument(help="A run folder.")],
    input: Annotated[Path, typer.Argument(help="Inputs: .npy (N, *shape), .csv (a row per example) or .png.")],
    out: Annotated[Path | None, typer.Option(help="Write the outputs to a .npy or .csv file.")] = None,
    limit: Annotated[int, typer.Option(help="Rows to print.")] = 20,
    resize: Annotated[
        bool, typer.Option("--resize", help="Resize a .png of another size to the model's input (else refused).")
    ] = False,
) -> None:
    """Predict with a trained run: classes and probabilities for a classifier, outputs otherwise."""
    import numpy as np
    import torch

    from lamina.data.inputs import read_inputs
    from lamina.train.runs import Run

    opened = Run.open(run)
    spec = opened.experiment.data
    transform = getattr(spec, "from_unit_pixels", None)
    inputs = read_inputs(
        input, tuple(opened.summary.get("input_shape") or ()), pixel_transform=transform, resize=resize
    )
    outputs = opened.predict(inputs)
    if isinstance(outputs, tuple):  # several heads (multi-task, auxiliary classifiers): the first is the main one
        console.print(f"[dim]the model has {len(outputs)} outputs; showing the first[/]")
        outputs = outputs[0]
    classifier = (
        opened.experiment.train.loss.type_name
        in ("cross_entropy", "categorical_cross_entropy", "softmax_cross_entropy")
        and outputs.dim() == 2
    )
    table = Table("example")
    if classifier:
        probs = torch.softmax(outputs, dim=1)
        classes = probs.argmax(1)
        table.add_column("class")
        table.add_column("probability", justify="right")
        for i in range(min(len(classes), limit)):
            table.add_row(str(i), str(int(classes[i])), f"{float(probs[i, classes[i]]):.4f}")
        result = np.column_stack([classes.numpy(), probs.numpy()])
        header = "class," + ",".join(f"p{c}" for c in range(probs.shape[1]))
    else:
        flat = outputs.reshape(len(outputs), -1)
        table.add_column("output")
        for i in range(min(len(flat), limit)):
            table.add_row(
                str(i), ", ".join(f"{v:.4g}" for v in flat[i][:8].tolist()) + (" ..." if flat.shape[1] > 8 else "")
            )
        result = flat.numpy()
        header = ",".join(f"y{c}" for c in range(flat.shape[1]))
    console.print(table)
    if len(outputs) > limit:
        console.print(f"... {len(outputs) - limit} more")
    if out is not None:
        if out.suffix == ".npy":
            np.save(out, result)
        elif out.suffix == ".csv":
            np.savetxt(out, result, delimiter=",", header=header, comments="", fmt="%.6g")
        else:
            raise fail(f"--out {out}: use a .npy or .csv file name")
        console.print(f"wrote {out}")
