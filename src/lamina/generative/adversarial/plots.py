"""The GAN's figures: a grid of generated samples, drawn after every epoch from the same latent vectors so that
successive grids show one set of samples improving (Radford et al., 2016, figures 2-3)."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import torch

from lamina.train.callbacks.base import Callback

__all__ = ["SampleGrid", "plot_sample_grid", "tile"]


def tile(images: torch.Tensor, columns: int | None = None, *, gap: int = 1) -> torch.Tensor:
    """Images ``(N, C, H, W)`` laid out in a grid of ``columns`` (default: about square) with ``gap`` pixels of
    white between them: ``(C, rows (H + gap) - gap, columns (W + gap) - gap)``."""
    n, c, h, w = images.shape
    columns = columns or math.ceil(math.sqrt(n))
    rows = math.ceil(n / columns)
    grid = torch.ones(c, rows * (h + gap) - gap, columns * (w + gap) - gap, dtype=images.dtype)
    for i in range(n):
        r, k = divmod(i, columns)
        grid[:, r * (h + gap) : r * (h + gap) + h, k * (w + gap) : k * (w + gap) + w] = images[i]
    return grid


def plot_sample_grid(images: torch.Tensor, path: str | Path, *, title: str = "", columns: int | None = None) -> Path:
    """Save ``images`` ``(N, C, H, W)`` (values in [0, 1]; one or three channels) as one PNG grid at ``path``."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    from lamina.report.plots import save_figure

    grid = tile(images.detach().float().cpu().clamp(0, 1), columns)
    fig = Figure(figsize=(grid.shape[2] / 50 + 0.2, grid.shape[1] / 50 + (0.5 if title else 0.2)))
    FigureCanvasAgg(fig)
    ax = fig.add_subplot()
    ax.axis("off")
    if grid.shape[0] == 1:
        ax.imshow(grid[0].numpy(), cmap="gray", vmin=0, vmax=1, interpolation="nearest")
    else:
        ax.imshow(grid.permute(1, 2, 0).numpy(), interpolation="nearest")
    if title:
        ax.set_title(title, fontsize=9)
    return save_figure(fig, Path(path))


class SampleGrid(Callback):
    """After every epoch, save ``folder/samples_epoch<k>.png``: the generator's samples for ``n`` fixed latent
    vectors (drawn once from a generator seeded with ``seed``, so the training's random streams are untouched)."""

    def __init__(self, folder: str | Path, *, n: int = 64, seed: int = 1234) -> None:
        self.folder, self.n, self.seed = Path(folder), n, seed
        self.paths: list[Path] = []

    def on_epoch_end(self, trainer: Any, epoch: int, logs: dict[str, float]) -> None:
        """Draw and save the grid of this epoch."""
        gan = trainer.gan
        z = torch.randn(self.n, gan.latent_dim, generator=torch.Generator().manual_seed(self.seed))
        images = gan.sample(self.n, z=z.to(trainer.device))
        path = self.folder / f"samples_epoch{epoch + 1:03d}.png"
        self.paths.append(plot_sample_grid(images, path, title=f"epoch {epoch + 1}"))
