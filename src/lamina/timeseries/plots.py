"""The figure every forecaster needs: the measured series, the forecasts over it, and where training ended."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

__all__ = ["plot_forecast"]


def plot_forecast(
    time: Sequence[float],
    actual: Sequence[float],
    forecasts: Mapping[str, tuple[Any, Any]],
    *,
    boundaries: Mapping[str, float] | None = None,
    title: str = "",
    xlabel: str = "time step",
    ylabel: str = "value",
    path: str | Path | None = None,
) -> Any:
    """Plot ``actual`` against time with each forecast over it and vertical lines at the split boundaries.

    Args:
        time: the time of each actual value (years, steps).
        actual: the measured series.
        forecasts: ``{label: (times, values)}``, e.g. ``{"TDNN one-step": (years, pred)}``.
        boundaries: ``{label: time}`` of vertical lines, e.g. ``{"train | test": 1920.5}``.
        title, xlabel, ylabel: the figure's texts (give the unit in the label).
        path: save the PNG there (and close the figure); otherwise return the figure.

    Returns:
        The saved path, or the matplotlib figure.
    """
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from lamina.report import save_figure

    fig, ax = plt.subplots(figsize=(10, 4))
    ax.plot(np.asarray(time), np.asarray(actual), color="black", linewidth=1.2, label="actual")
    styles = ["-", "--", "-.", ":"]
    for i, (label, (t, values)) in enumerate(forecasts.items()):
        ax.plot(np.asarray(t), np.asarray(values), linestyle=styles[i % len(styles)], linewidth=1.2, label=label)
    for j, (label, x) in enumerate((boundaries or {}).items()):
        ax.axvline(x, color="gray", linestyle=":", linewidth=1.0)
        ax.annotate(
            label,
            xy=(x, 1.0),
            xycoords=("data", "axes fraction"),
            xytext=(3, -12 - 11 * (j % 2)),
            textcoords="offset points",
            fontsize=8,
            color="dimgray",
        )
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    ax.set_title(title)
    ax.legend(loc="upper left", fontsize=8, framealpha=0.8)
    ax.grid(alpha=0.3)
    if path is None:
        return fig
    return save_figure(fig, Path(path))
