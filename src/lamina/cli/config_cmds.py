"""``lamina config check|show``: experiment files."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape

from lamina.cli.app import config_app, console, handle_errors
from lamina.disk import format_bytes

__all__ = ["check", "show"]


@config_app.command()
@handle_errors
def check(
    config: Annotated[Path, typer.Argument(help="Experiment file (TOML).")],
    set_: Annotated[list[str], typer.Option("--set", "-s", help="Override a value: --set train.epochs=5")] = [],
) -> None:
    """Validate an experiment file: every problem with its path, or OK. Where the data is on this machine, the model
    is also built without allocating it (meta device): shapes that do not chain, or a model too big for the memory
    free on its device, are refused naming the layer."""
    from lamina.config.loader import load_experiment

    exp = load_experiment(config, set_)
    note = _check_resources(exp)
    console.print(f"{config}: OK" + (f" [dim]({escape(note)})[/]" if note else ""))


def _check_resources(exp) -> str:
    """Build the model on the meta device for the data's input shape and check it fits; a note when the data is
    not here (``config check`` never downloads)."""
    from lamina.data.sources import locate
    from lamina.nn.memory_estimate import check_model_memory
    from lamina.train.rng import resolve_device

    missing = [f.relpath for f in type(exp.data).files.values() if locate(f) is None]
    if missing:
        return f"model size not checked: {missing[0]} is not downloaded yet"
    shape = exp.data.load().train.input_shape
    device = resolve_device(exp.train.device)
    estimate = check_model_memory(exp.model, shape, batch_size=exp.train.batch_size, device=device)
    if estimate is None:
        return ""
    return f"{estimate.parameters:,} parameters; training needs at least {format_bytes(estimate.total)} on {device}"


@config_app.command()
@handle_errors
def show(
    config: Annotated[Path, typer.Argument(help="Experiment file (TOML).")],
    set_: Annotated[list[str], typer.Option("--set", "-s", help="Override a value: --set train.epochs=5")] = [],
) -> None:
    """Print the resolved experiment: every option, defaults filled in."""
    from lamina.config.loader import load_experiment, to_toml

    print(to_toml(load_experiment(config, set_)), end="")
