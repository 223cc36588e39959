"""``lamina config check|show`` and ``lamina names``: experiment files and the registered components."""
from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape

from lamina.cli.app import app, config_app, console, fail, handle_errors
from lamina.cli.text import summary

__all__ = ["check", "show", "names"]


@config_app.command()
@handle_errors
def check(
    config: Annotated[Path, typer.Argument(help="Experiment file (TOML).")],
    set_: Annotated[list[str], typer.Option("--set", "-s", help="Override a value: --set train.epochs=5")] = [],
) -> None:
    """Validate an experiment file: every problem with its path, or OK."""
    from lamina.config.loader import load_experiment

    load_experiment(config, set_)
    console.print(f"{config}: OK")


@config_app.command()
@handle_errors
def show(
    config: Annotated[Path, typer.Argument(help="Experiment file (TOML).")],
    set_: Annotated[list[str], typer.Option("--set", "-s", help="Override a value: --set train.epochs=5")] = [],
) -> None:
    """Print the resolved experiment: every option, defaults filled in."""
    from lamina.config.loader import load_experiment, to_toml

    print(to_toml(load_experiment(config, set_)), end="")


@app.command()
@handle_errors
def names(kind: Annotated[str | None, typer.Argument(help="layer, activation, initializer, loss, optimizer, "
                                                                 "schedule, dataset, callback, metric, pretrain")] = None) -> None:
    """List the registered names usable in experiment files, with a line of description each."""
    from lamina.registry import KINDS, registry

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

