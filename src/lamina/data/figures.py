"""Sample-image figures of image datasets: a grid of training examples with their labels, like figure 1 of
Larochelle et al. (2007), for the benchmark pages of the generated datasets (factors of variation, CURVES, FACES).

matplotlib is imported on first use (``import lamina`` stays light).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import torch

from lamina.registry import resolve

__all__ = ["sample_figure", "sample_grid"]


def sample_grid(
    images: torch.Tensor,
    labels: torch.Tensor | None = None,
    *,
    cols: int = 10,
    title: str = "",
    path: str | Path | None = None,
) -> Any:
    """Draw ``images`` in a grid (grey, black = 0, white = the largest value), each titled with its label.

    Args:
        images: ``(N, H, W)``, ``(N, 1, H, W)`` or ``(N, H*W)`` with ``H*W`` a square.
        labels: one per image, shown above it (``None``: no titles).
        cols: images per row.
        title: the figure's title.
        path: also write the figure there as a PNG (atomically).

    Returns:
        The matplotlib figure.
    """
    from lamina.report.plots import plt, save_figure

    x = images.detach().float().cpu()
    if x.dim() == 2:
        side = round(x.shape[1] ** 0.5)
        if side * side != x.shape[1]:
            raise ValueError(f"sample_grid: flat images of {x.shape[1]} pixels are not square; give (N, H, W)")
        x = x.reshape(len(x), side, side)
    x = x.reshape(len(x), *x.shape[-2:])
    rows = -(-len(x) // cols)
    fig, axes = plt.subplots(rows, cols, figsize=(cols * 0.9, rows * 1.0 + (0.4 if title else 0)), squeeze=False)
    lo, hi = float(x.min()), float(x.max())
    for i, ax in enumerate(axes.flat):
        ax.axis("off")
        if i < len(x):
            ax.imshow(x[i].numpy(), cmap="gray", vmin=lo, vmax=hi if hi > lo else lo + 1, interpolation="nearest")
            if labels is not None:
                ax.set_title(
                    str(int(labels[i])) if not labels.is_floating_point() else f"{float(labels[i]):g}", fontsize=8
                )
    if title:
        fig.suptitle(title)
    if path is not None:
        save_figure(fig, Path(path))
    return fig


def sample_figure(name: str, *, n: int = 30, cols: int = 10, path: str | Path | None = None, **options: Any) -> Any:
    """A grid of the first ``n`` training images of the registered dataset ``name`` (loaded with ``options``,
    e.g. ``train_size=100`` for a quick look at a generated set) with their labels.

    >>> sample_figure("mnist_rot", train_size=200, test_size=10, validation=0, path="mnist_rot.png")
    """
    train = resolve("dataset", {"name": name, **options}, path="data").load().train
    labels = train.y[:n] if isinstance(train.y, torch.Tensor) and train.y.dim() == 1 else None  # class labels only
    return sample_grid(train.x[:n], labels, cols=cols, title=name, path=path)
