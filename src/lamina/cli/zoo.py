"""``lamina zoo list|build|load``: the model zoo."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.markup import escape
from rich.table import Table

from lamina.cli.app import console, handle_errors, zoo_app

__all__ = ["zoo_list", "zoo_build", "zoo_load"]


def _figure(metric: str, value: float) -> str:
    return f"{100 * value:.2f}% error" if metric == "error" else f"{value:.3f} loss"


@zoo_app.command("list")
@handle_errors
def zoo_list() -> None:
    """The catalogue: each model's version, figure target (and the paper's), build time, and what is built here."""
    from lamina.zoo import CATALOG, read_index, zoo_home

    index = read_index()
    table = Table(title=f"lamina zoo ({zoo_home()})", title_justify="left")
    for column in ("model", "version", "target", "paper", "build", "built here"):
        table.add_column(column, overflow="fold")
    for e in CATALOG.values():
        built = index.get(e.filename)
        here = "not built" if built is None else f"{_figure(e.metric, built['figure'])}, sha256 {built['sha256'][:12]}"
        paper = _figure(e.metric, e.published) if e.published is not None else "-"
        target = f"{e.split}: <= {_figure(e.metric, e.target)}"
        name = f"[bold]{e.name}[/]\n[dim]{escape(e.summary)}[/]"
        table.add_row(name, str(e.version), target, paper, f"~{e.minutes:g} min", escape(here))
    console.print(table)


@zoo_app.command("build")
@handle_errors
def zoo_build(
    name: Annotated[str, typer.Argument(help="A model of `lamina zoo list`.")],
    set_: Annotated[list[str], typer.Option("--set", "-s", help="Override a recipe value (makes a variant).")] = [],
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="No progress display.")] = False,
) -> None:
    """Train a model from its recipe, save its weights (safetensors) in the zoo folder, and record the file's sha256
    and the figure its model reaches. Exits with 1 when the figure misses the model's target."""
    from lamina.zoo import build

    built = build(name, overrides=set_, progress="none" if quiet else "auto")
    e = built.entry
    console.print(f"wrote {built.path} (sha256 {built.sha256})", soft_wrap=True)
    verdict = "meets" if built.meets_target else "MISSES"
    console.print(
        f"{name} v{e.version}: {e.split} {_figure(e.metric, built.figure)}, {verdict} the target "
        f"<= {_figure(e.metric, e.target)}"
    )
    if not built.meets_target:
        raise typer.Exit(1)


@zoo_app.command("load")
@handle_errors
def zoo_load(
    name: Annotated[str, typer.Argument(help="A model of `lamina zoo list`.")],
    check: Annotated[bool, typer.Option(help="Evaluate it and compare with the recorded figure.")] = True,
) -> None:
    """Load a built model after checking its file's sha256; by default also evaluate it, which must reproduce the
    figure recorded when it was built."""
    from lamina.nn.summary import count_parameters
    from lamina.zoo import entry, load_model, read_index

    model = load_model(name, check=check)
    e = entry(name)
    record = read_index().get(e.filename) or {}
    line = f"{name} v{e.version}: sha256 ok, {count_parameters(model):,} parameters"
    if check and record:
        line += f"; {e.split} {_figure(e.metric, record['figure'])}, as recorded"
    console.print(line)
