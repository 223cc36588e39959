"""Figures of RBMs and DBNs for the run report: first-layer filters, samples and reconstructions as image grids."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import torch

from lamina.report.grid import image_grid
from lamina.report.plots import plt, save_figure  # pyplot on the Agg backend (files only)

__all__ = ["image_shape_of", "image_grid", "plot_filters", "plot_images", "plot_reconstructions"]


def image_shape_of(n_visible: int, data_shape: tuple[int, ...] | None = None) -> tuple[int, int] | None:
    """The ``(height, width)`` to show a visible vector as: the data's own image shape, or a square; else ``None``."""
    if data_shape is not None and len(data_shape) >= 2 and math.prod(data_shape) == n_visible:
        return int(data_shape[-2]), int(data_shape[-1])
    side = math.isqrt(n_visible)
    return (side, side) if side * side == n_visible else None


def _figure(grid: np.ndarray, title: str, label: str, *, cmap: str, vmin: float, vmax: float, path: Path) -> Path:
    width = float(np.clip(grid.shape[1] / 25, 3.5, 10))  # inches for the image; its height keeps the aspect
    fig, ax = plt.subplots(figsize=(width + 1.2, width * grid.shape[0] / grid.shape[1] + 0.8))
    shown = ax.imshow(np.ma.masked_invalid(grid), cmap=cmap, vmin=vmin, vmax=vmax, interpolation="nearest")
    ax.set_xticks([])
    ax.set_yticks([])
    ax.set_title(title, pad=12)
    fig.colorbar(shown, ax=ax, fraction=0.046, pad=0.02, shrink=0.9).set_label(label)
    return save_figure(fig, Path(path))


def plot_filters(
    weight: torch.Tensor, shape: tuple[int, int], path: str | Path, *, n: int = 100, title: str = "first-layer filters"
) -> Path:
    """The incoming weights of the first ``n`` hidden units, each as an image, on one symmetric color scale."""
    w = weight.detach().float().cpu()[:n].reshape(-1, *shape).numpy()
    limit = float(np.abs(w).max()) or 1.0
    columns = math.ceil(math.sqrt(len(w)))
    return _figure(
        image_grid(w, columns),
        f"{title}\n({len(w)} hidden units, one per tile)",
        "weight",
        cmap="RdBu_r",
        vmin=-limit,
        vmax=limit,
        path=Path(path),
    )


def plot_images(
    images: torch.Tensor,
    shape: tuple[int, int],
    path: str | Path,
    *,
    title: str,
    label: str = "pixel value (probability of on)",
) -> Path:
    """Visible vectors (samples, fantasies) as a grid of images."""
    x = images.detach().float().cpu().reshape(-1, *shape).numpy()
    lo, hi = float(x.min()), float(x.max())
    columns = math.ceil(math.sqrt(len(x)))
    return _figure(
        image_grid(x, columns), title, label, cmap="gray", vmin=min(lo, 0.0), vmax=max(hi, 1.0), path=Path(path)
    )


def plot_reconstructions(
    data: torch.Tensor,
    reconstructions: torch.Tensor,
    shape: tuple[int, int],
    path: str | Path,
    *,
    title: str = "reconstructions",
) -> Path:
    """Pairs of rows: examples above, their reconstructions below."""
    x = data.detach().float().cpu().reshape(-1, *shape)
    r = reconstructions.detach().float().cpu().reshape(-1, *shape)
    columns = min(10, len(x))
    rows = []
    for start in range(0, len(x), columns):
        rows += [x[start : start + columns], r[start : start + columns]]
    stacked = torch.cat(rows).numpy()
    lo, hi = float(stacked.min()), float(stacked.max())
    return _figure(
        image_grid(stacked, columns),
        f"{title}\n(odd rows: data, even rows: their reconstructions)",
        "pixel value",
        cmap="gray",
        vmin=min(lo, 0.0),
        vmax=max(hi, 1.0),
        path=Path(path),
    )
