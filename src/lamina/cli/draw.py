"""``lamina draw CONFIG|RUN``: the model's layer graph as a PNG or SVG."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from lamina.cli.app import app, console, handle_errors

__all__ = ["draw"]


@app.command()
@handle_errors
def draw(
    source: Annotated[Path, typer.Argument(help="An experiment file (TOML) or a run folder.")],
    out: Annotated[
        Path | None, typer.Option("--out", "-o", help="File to write, .png or .svg (default: the model's name .png).")
    ] = None,
    expand: Annotated[bool, typer.Option(help="Open up residual and inception blocks into their branches.")] = True,
    engine: Annotated[str, typer.Option(help="auto (Graphviz when installed), graphviz or matplotlib.")] = "auto",
    set_: Annotated[list[str], typer.Option("--set", "-s", help="Override a value: --set train.epochs=5")] = [],
) -> None:
    """Draw a model: a box per layer with its type, output shape and parameter count, an arrow per connection. The
    model is built on the meta device (no memory for its weights); a config's data is read for its input shape. A GAN
    file gives two drawings, NAME_generator and NAME_discriminator."""
    from lamina.generative.adversarial.config import gan_skeleton, is_gan_file
    from lamina.nn.layer_graph import layer_graph
    from lamina.report.drawing import draw as draw_graph
    from lamina.train.runs import model_skeleton

    if source.is_file() and is_gan_file(source):
        if set_:
            raise typer.BadParameter("--set is not taken for a GAN file; edit the file", param_hint="--set")
        gan, name = gan_skeleton(source)
        target = out or Path(f"{name}.png")
        for part in ("generator", "discriminator"):
            graph = layer_graph(getattr(gan, part), expand=expand)
            path = target.with_name(f"{target.stem}_{part}{target.suffix}")
            draw_graph(graph, path, engine=engine, title=f"{name}: {part}")
            console.print(
                f"wrote {path}: {len(graph.nodes)} nodes, {len(graph.edges)} edges, {graph.parameters:,} parameters"
            )
        return
    model, name = model_skeleton(source, set_)
    graph = layer_graph(model, expand=expand)
    path = draw_graph(graph, out or Path(f"{name}.png"), engine=engine, title=name)
    console.print(f"wrote {path}: {len(graph.nodes)} nodes, {len(graph.edges)} edges, {graph.parameters:,} parameters")
