"""One mosaic of many small images, for filters, samples and reconstructions (numpy only: no matplotlib)."""

from __future__ import annotations

from typing import Any

import numpy as np

__all__ = ["image_grid"]


def image_grid(images: Any, columns: int, *, pad: float = np.nan) -> np.ndarray:
    """Tile images into one array to show with a single ``imshow`` (much faster than one axes per image).

    Args:
        images: ``(N, H, W)``, a numpy array or a tensor (detached and moved to the CPU here).
        columns: images per row; the last row is padded.
        pad: the value of the one-pixel gaps and the empty cells (NaN shows as the axes' background).

    Returns:
        A float64 array ``(rows * (H + 1) - 1, columns * (W + 1) - 1)``.
    """
    if hasattr(images, "detach"):
        images = images.detach().cpu().numpy()
    images = np.asarray(images, dtype=np.float64)
    if images.ndim != 3:
        raise ValueError(f"image_grid: images must be (N, H, W), got shape {images.shape}")
    if columns < 1:
        raise ValueError(f"image_grid: columns must be a positive integer, got {columns}")
    n, h, w = images.shape
    rows = max(1, -(-n // columns))
    grid = np.full((rows * (h + 1) - 1, columns * (w + 1) - 1), pad, dtype=np.float64)
    for i in range(n):
        r, c = divmod(i, columns)
        grid[r * (h + 1) : r * (h + 1) + h, c * (w + 1) : c * (w + 1) + w] = images[i]
    return grid
