"""Drawings of a model's layer graph (``lamina draw``, :func:`lamina.draw`): a box per layer with its type, output
shape and parameter count, an arrow per connection, as PNG or SVG.

With Graphviz's ``dot`` on the ``PATH`` the layout is Graphviz's (as Keras' ``plot_model`` does); otherwise
matplotlib draws a layered layout: each node one row below its lowest input, the nodes of a row ordered by the
mean position of their inputs (the barycentre rule of Sugiyama, Tagawa & Toda, 1981) to keep arrows from crossing.
"""

from __future__ import annotations

import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from torch import nn

from lamina import files
from lamina.disk import disk_errors
from lamina.errors import LaminaError
from lamina.nn.layer_graph import LayerGraph, Node, layer_graph
from lamina.report.plots import literal, new_figure, save_figure

__all__ = ["Layout", "draw", "layout", "node_label", "to_dot"]

_FORMATS = ("png", "svg")
_COLOURS = {"input": "#dbe9f6", "concat": "#fbe3c8", "add": "#fbe3c8"}
_BOX = "#eeeeee"


def node_label(node: Node) -> str:
    """``conv2d_0: conv2d (relu)`` over ``(16, 28, 28) · 160 params``."""
    if node.kind == "input":
        head = node.name if node.name == "input" else f"{node.name} (input)"
    else:
        head = node.name if node.kind == node.name else f"{node.name}: {node.kind}"
    tail = [node.shape] if node.shape else []
    if node.parameters:
        tail.append(f"{node.parameters:,} params")
    return head + ("\n" + " · ".join(tail) if tail else "")


@dataclass
class Layout:
    """Where a drawing puts things: ``at[id] = (x, row)`` for each node, and for each edge spanning several rows
    the points it passes on the rows between (``bends[(src, dst)]``), so that it goes round the nodes there."""

    at: dict[str, tuple[float, int]]
    bends: dict[tuple[str, str], list[tuple[float, int]]]


def layout(graph: LayerGraph) -> Layout:
    """Each node one row below its lowest input; an edge spanning rows gets a waypoint on each row between (the
    dummy nodes of Sugiyama et al.); in each row, nodes and waypoints sit under the mean x of their inputs, at
    least one unit apart, in the order of those means."""
    parents: dict[str, list[str]] = {n.id: [] for n in graph.nodes}
    for src, dst in graph.edges:
        parents[dst].append(src)
    row: dict[str, int] = {}
    for node in graph.nodes:  # nodes come in an order where each follows its inputs
        row[node.id] = 1 + max((row[p] for p in parents[node.id]), default=-1)
    items: dict[int, list[str]] = {}
    for node in graph.nodes:
        items.setdefault(row[node.id], []).append(node.id)
    chained: dict[str, list[str]] = {n.id: [] for n in graph.nodes}  # each item's inputs, waypoints included
    waypoints: dict[tuple[str, str], list[str]] = {}
    for src, dst in graph.edges:
        previous, points = src, []
        for r in range(row[src] + 1, row[dst]):
            point = f"{src}->{dst}@{r}"
            chained[point] = [previous]
            items.setdefault(r, []).append(point)
            points.append(point)
            previous = point
        chained[dst].append(previous)
        waypoints[(src, dst)] = points
    x: dict[str, float] = {}
    for r in sorted(items):
        members = items[r]
        wanted = {i: sum(x[p] for p in chained[i]) / len(chained[i]) if chained[i] else 0.0 for i in members}
        members = sorted(members, key=lambda i: wanted[i])  # stable: nodes before the edges passing by
        placed: list[float] = []
        for item in members:
            placed.append(wanted[item] if not placed else max(wanted[item], placed[-1] + 1.0))
        shift = sum(wanted.values()) / len(members) - sum(placed) / len(placed)  # keep the row's mean where wanted
        for item, at in zip(members, placed):
            x[item] = at + shift
    return Layout(
        at={n.id: (x[n.id], row[n.id]) for n in graph.nodes},
        bends={
            edge: [(x[p], row[edge[0]] + 1 + k) for k, p in enumerate(points)] for edge, points in waypoints.items()
        },
    )


def to_dot(graph: LayerGraph, title: str = "") -> str:
    """The graph in Graphviz's DOT language, top to bottom."""

    def quote(text: str) -> str:
        """``text`` as a DOT string literal."""
        return '"' + text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n") + '"'

    lines = ["digraph model {", "  rankdir=TB;", '  node [shape=box, style="rounded,filled", fontname="Helvetica"];']
    if title:
        lines.append(f"  label={quote(title)}; labelloc=t;")
    for node in graph.nodes:
        lines.append(f"  {quote(node.id)} [label={quote(node_label(node))}, fillcolor={quote(_fill(node))}];")
    lines += [f"  {quote(src)} -> {quote(dst)};" for src, dst in graph.edges]
    return "\n".join(lines + ["}"]) + "\n"


def _fill(node: Node) -> str:
    return _COLOURS.get(node.kind, _BOX)


def _draw_matplotlib(graph: LayerGraph, path: Path, title: str) -> Path:
    from matplotlib.patches import FancyArrowPatch

    plan = layout(graph)
    xs = [p[0] for p in plan.at.values()] + [p[0] for bends in plan.bends.values() for p in bends] or [0.0]
    left, right = min(xs) - 0.6, max(xs) + 0.6
    rows = max((p[1] for p in plan.at.values()), default=0) + 1
    fig, ax = new_figure((max(4.0, 2.6 * (right - left)), 0.2 + 0.85 * rows + (0.3 if title else 0)))
    ax.set_axis_off()
    ax.set_xlim(left, right)
    ax.set_ylim(-rows + 0.5, 0.5)
    boxes = {}
    for node in graph.nodes:
        x, r = plan.at[node.id]
        boxes[node.id] = ax.text(
            x, -r, literal(node_label(node)), ha="center", va="center", fontsize=8, zorder=3,
            bbox={"boxstyle": "round,pad=0.4", "facecolor": _fill(node), "edgecolor": "#555555", "linewidth": 0.8},
        ).get_bbox_patch()  # fmt: skip
    style: dict[str, Any] = {"color": "#444444", "linewidth": 0.8}
    for src, dst in graph.edges:
        points = [plan.at[src], *plan.bends[(src, dst)]]
        if len(points) > 1:  # the bends run under the boxes (hidden where they start); the last leg has the head
            ax.plot([p[0] for p in points], [-p[1] for p in points], zorder=1, solid_capstyle="round", **style)
        (x0, r0), (x1, r1) = points[-1], plan.at[dst]
        ax.add_patch(FancyArrowPatch(
            (x0, -r0), (x1, -r1), arrowstyle="-|>", mutation_scale=9, zorder=4,  # over the boxes, clipped by them
            patchA=boxes[src] if len(points) == 1 else None, patchB=boxes[dst], **style,
        ))  # fmt: skip
    if title:
        ax.set_title(literal(title), fontsize=10)
    fig.subplots_adjust(left=0.01, right=0.99, bottom=0.01, top=0.99 if not title else 0.94)
    fig._lamina_fixed_margins = True  # the axes span the figure; nothing to crop
    if path.suffix == ".svg":
        with disk_errors(path):
            path.parent.mkdir(parents=True, exist_ok=True)
            files.atomic_write(path, lambda fh: fig.savefig(fh, format="svg"))
        return path
    return save_figure(fig, path)


def _draw_graphviz(graph: LayerGraph, path: Path, title: str, dot: str) -> Path:
    fmt = path.suffix[1:]
    done = subprocess.run([dot, f"-T{fmt}"], input=to_dot(graph, title).encode(), capture_output=True, check=False)
    if done.returncode != 0:
        raise LaminaError(f"graphviz ({dot}) could not draw {path}: {done.stderr.decode(errors='replace').strip()}")
    with disk_errors(path):
        path.parent.mkdir(parents=True, exist_ok=True)
        files.atomic_write(path, lambda fh: fh.write(done.stdout))
    return path


def draw(
    model: nn.Module | LayerGraph,
    path: str | Path,
    *,
    expand: bool = True,
    engine: str = "auto",
    title: str = "",
) -> Path:
    """Draw ``model``'s layer graph into ``path`` (``.png`` or ``.svg``).

    Args:
        model: a model from :func:`~lamina.nn.build_model` (or any ``nn.Module``), or a
            :class:`~lamina.nn.layer_graph.LayerGraph`.
        path: the file to write; its suffix picks the format.
        expand: open up ``inception`` and ``residual`` blocks into their branches.
        engine: ``"graphviz"`` (needs ``dot`` on the PATH), ``"matplotlib"``, or ``"auto"`` (Graphviz when
            installed).
        title: a caption above the drawing.

    Returns:
        ``path``.

    Example:
        >>> import lamina
        >>> model = lamina.build_model([{"type": "dense", "units": 8, "activation": "relu"},
        ...                             {"type": "dense", "units": 2}], input_shape=(4,))
        >>> lamina.draw(model, "model.png")  # doctest: +SKIP
    """
    path = Path(path)
    if path.suffix[1:] not in _FORMATS:
        raise LaminaError(f"{path}: a drawing is written as .png or .svg, got {path.suffix or 'no suffix'!r}")
    if engine not in ("auto", "graphviz", "matplotlib"):
        raise LaminaError(f"engine must be 'auto', 'graphviz' or 'matplotlib', got {engine!r}")
    graph = model if isinstance(model, LayerGraph) else layer_graph(model, expand=expand)
    dot = shutil.which("dot") if engine != "matplotlib" else None
    if engine == "graphviz" and dot is None:
        raise LaminaError("engine='graphviz' needs Graphviz's `dot` on the PATH (apt install graphviz); "
                          "engine='matplotlib' draws without it")  # fmt: skip
    if dot is not None:
        return _draw_graphviz(graph, path, title, dot)
    return _draw_matplotlib(graph, path, title)
