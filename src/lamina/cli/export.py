"""``lamina export RUN --format onnx|safetensors|torchscript|exported-program``."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from lamina.cli.app import app, console, fail, handle_errors

__all__ = ["export"]

_FORMATS = "onnx, safetensors, torchscript or exported-program"


@app.command()
@handle_errors
def export(
    run: Annotated[Path, typer.Argument(help="A run folder.")],
    format: Annotated[str, typer.Option("--format", "-f", help=f"{_FORMATS}.")] = "onnx",
    out: Annotated[Path | None, typer.Option(help="File to write (default: RUN/export/model.<ext>).")] = None,
    opset: Annotated[int | None, typer.Option(help="ONNX opset (default: the exporter's).")] = None,
    verify: Annotated[bool, typer.Option(help="Reload the export and compare its outputs with PyTorch's.")] = True,
) -> None:
    """Export a trained run: ONNX (dynamic batch, checked and run by onnxruntime), safetensors weights with the
    resolved config beside them, TorchScript, or a torch.export program (.pt2)."""
    from lamina.export import export as export_model
    from lamina.export.formats import get_format

    try:
        fmt = get_format(format)
    except ValueError as err:
        raise fail(str(err)) from None
    if opset is not None and fmt.name != "onnx":
        raise fail(f"--opset applies to onnx, not {fmt.name}")
    options = {"opset": opset} if opset is not None else {}
    result = export_model(run, fmt.name, out, verify=verify, **options)
    for path in result.files:
        console.print(f"wrote {path} ({path.stat().st_size / 1024:,.1f} KiB)", soft_wrap=True)
    facts = [f"{k} {v}" for k, v in result.details.items()]
    if result.max_abs_diff is not None:
        facts.append(f"max |exported - pytorch| = {result.max_abs_diff:.3g} on a batch of another size")
    if facts:
        console.print(f"{fmt.name}: " + "; ".join(facts), soft_wrap=True)
