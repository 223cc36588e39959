"""Learning curves: one figure per metric, training beside validation, saved as PNG.

The run's own figures are drawn on a bare :class:`matplotlib.figure.Figure` with the Agg canvas (:func:`new_figure`):
no pyplot, no figure manager, no global state, and about half a second less at the end of ``lamina train``.
``plt`` (pyplot on the Agg backend) is still importable from here, loaded on first use, for the modules that draw
with it.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import matplotlib

from lamina import files
from lamina.disk import disk_errors

matplotlib.use("Agg")  # files only; never needs a display

__all__ = ["plot_learning_curves", "plot_step_loss", "metric_label", "save_figure", "literal", "new_figure"]

_SKIP = {"epoch", "time", "step", "kind", "lr"}
_LABELS = {
    "loss": "loss",
    "accuracy": "accuracy (fraction correct)",
    "mse": "mean squared error",
    "mae": "mean absolute error",
}


def literal(text: str) -> str:
    """``text`` as matplotlib shows it, character for character: a run or layer name such as ``cost $5$`` or
    ``x$^$`` is escaped (``\\$``) so that mathtext never parses, or fails to parse, it."""
    return str(text).replace("$", r"\$")


def metric_label(name: str, loss_name: str | None = None) -> str:
    """An axis label for a metric (the loss says which loss it is, and its unit)."""
    if name == "loss" and loss_name:
        unit = " (nats)" if "cross_entropy" in loss_name else ""
        return literal(f"loss: {loss_name}{unit}")
    if name.startswith("top") and name.endswith("_accuracy"):
        return literal(f"{name.replace('_', ' ')} (fraction)")
    return literal(_LABELS.get(name, name.replace("_", " ")))


def __getattr__(name: str) -> Any:
    """``plt``: pyplot on the Agg backend, imported on first use (``from lamina.report.plots import plt``)."""
    if name == "plt":
        import matplotlib.pyplot

        return matplotlib.pyplot
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def new_figure(figsize: tuple[float, float]) -> tuple[Any, Any]:
    """``(figure, axes)``: one axes on a figure of ``figsize`` inches drawn by the Agg canvas, outside pyplot (nothing
    to close, no backend state), with fixed margins in inches that hold a title, axis labels and tick labels of up
    to 7 characters: saving draws it once, where a "tight" layout or crop measures every text first and draws twice.
    """
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    width, height = figsize
    fig = Figure(figsize=figsize)
    fig.subplots_adjust(left=0.9 / width, right=1 - 0.15 / width, bottom=0.55 / height, top=1 - 0.35 / height)
    FigureCanvasAgg(fig)
    fig._lamina_fixed_margins = True  # type: ignore[attr-defined]  # save_figure does not crop it
    return fig, fig.add_subplot()


def save_figure(fig: Any, path: Path) -> Path:
    """Save a figure as PNG (120 dpi) and close it if pyplot manages it. A :func:`new_figure` keeps the size and
    margins it was given; any other figure is cropped to what it draws (``bbox_inches="tight"``)."""
    managed = getattr(fig.canvas, "manager", None) is not None
    options = {} if getattr(fig, "_lamina_fixed_margins", False) else {"bbox_inches": "tight"}
    try:
        with disk_errors(path):
            path.parent.mkdir(parents=True, exist_ok=True)
            files.atomic_write(path, lambda fh: fig.savefig(fh, format="png", dpi=120, **options))
    finally:
        pyplot = sys.modules.get("matplotlib.pyplot")
        if managed and pyplot is not None:
            pyplot.close(fig)
    return path


def plot_learning_curves(
    epochs: Sequence[dict[str, Any]], folder: str | Path, *, loss_name: str | None = None, title: str = ""
) -> list[Path]:
    """One PNG per metric (``loss.png``, ``accuracy.png``, ...): the training curve and, when logged, the validation
    curve against the epoch; plus ``lr.png`` when the learning rate changed."""
    folder = Path(folder)
    names = []
    for e in epochs:
        names += [k for k in e if k not in _SKIP and not k.startswith("val_") and k not in names]
    names += [k[4:] for e in epochs for k in e if k.startswith("val_") and k[4:] not in names]
    paths = []
    x = [e.get("epoch", i + 1) for i, e in enumerate(epochs)]
    for name in dict.fromkeys(names):
        fig, ax = new_figure((6, 4))
        for key, label, style in ((name, "training", "-o"), (f"val_{name}", "validation", "-s")):
            ys = [e.get(key) for e in epochs]
            if any(y is not None for y in ys):
                ax.plot(x, [float("nan") if y is None else y for y in ys], style, markersize=3, label=label)
        ax.set_xlabel("epoch")
        ax.set_ylabel(metric_label(name, loss_name))
        ax.set_title(literal(f"{title}: {name}" if title else name))
        ax.grid(alpha=0.3)
        ax.legend()
        paths.append(save_figure(fig, folder / f"{name}.png"))
    lrs = [e.get("lr") for e in epochs if e.get("lr") is not None]
    if len(set(lrs)) > 1:
        fig, ax = new_figure((6, 3))
        ax.plot(x[: len(lrs)], lrs, "-o", markersize=3)
        ax.set_xlabel("epoch")
        ax.set_ylabel("learning rate (end of epoch)")
        ax.set_title(literal(f"{title}: learning rate" if title else "learning rate"))
        ax.grid(alpha=0.3)
        paths.append(save_figure(fig, folder / "lr.png"))
    return paths


def plot_step_loss(
    steps: Sequence[dict[str, Any]], path: str | Path, *, loss_name: str | None = None, title: str = ""
) -> Path | None:
    """The training loss logged every few optimizer steps (``metrics.jsonl`` step lines)."""
    points = [(s["step"], s["loss"]) for s in steps if s.get("loss") is not None]
    if len(points) < 2:
        return None
    fig, ax = new_figure((6, 3.5))
    ax.plot(*zip(*points), linewidth=1)
    ax.set_xlabel("optimizer step")
    ax.set_ylabel(metric_label("loss", loss_name) + " (one batch)")
    ax.set_title(literal(f"{title}: training loss per step" if title else "training loss per step"))
    ax.grid(alpha=0.3)
    return save_figure(fig, Path(path))
