"""``lamina config check|show`` and ``lamina names``: experiment files and the registered components."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape

from lamina.cli.app import app, config_app, console, fail, handle_errors
from lamina.cli.text import summary
from lamina.config.loader import load_experiment, to_toml
from lamina.data.sources import locate
from lamina.disk import format_bytes
from lamina.nn.memory_estimate import check_model_memory
from lamina.registry import KINDS, registry
from lamina.train.rng import resolve_device

__all__ = ["check", "show", "names"]


@config_app.command()
@handle_errors
def check(
    config: Annotated[Path, typer.Argument(help="Experiment file (TOML).")],
    set_: Annotated[list[str], typer.Option("--set", "-s", help="Override a value: --set train.epochs=5")] = [],
) -> None:
    """Validate an experiment file: every problem with its path, or OK. Where the data is on this machine, the model
    is also built without allocating it (meta device): shapes that do not chain, or a model too big for the memory
    free on its device, are refused naming the layer."""
    exp = load_experiment(config, set_)
    note = _check_resources(exp)
    console.print(f"{config}: OK" + (f" [dim]({escape(note)})[/]" if note else ""))


def _check_resources(exp) -> str:
    """Build the model on the meta device for the data's input shape and check it fits; a note when the data is
    not here (``config check`` never downloads)."""
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
    print(to_toml(load_experiment(config, set_)), end="")


@app.command()
@handle_errors
def names(
    kind: Annotated[
        str | None,
        typer.Argument(
            help="layer, activation, initializer, loss, optimizer, schedule, dataset, callback, metric, pretrain"
        ),
    ] = None,
) -> None:
    """List the registered names usable in experiment files, with a line of description each."""
    kinds = [kind] if kind else list(KINDS)
    if kind is not None and kind not in KINDS:
        raise fail(f"unknown kind {kind!r}; choose one of {', '.join(KINDS)}")
    for k in kinds:
        reg = registry(k)
        console.print(f"[bold]{k}[/] ({reg.key} = ...)")
        for name in reg.names(aliases=False):
            cls = reg.lookup(name)
            aliases = [a for a in reg.names() if reg.lookup(a) is cls and a != name]
            doc = summary(cls.__doc__)
            extra = f" [dim](also {', '.join(aliases)})[/]" if aliases else ""
            console.print(f"  {name}{extra}  [dim]{escape(doc)}[/]", soft_wrap=True)
