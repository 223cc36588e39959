"""CURVES (Hinton & Salakhutdinov, 2006, "Reducing the dimensionality of data with neural networks", Science, and
its supporting online material): 28x28 images of random smooth curves, each fixed by three random points, so the
images lie on a 6-dimensional manifold (the paper's 784-400-200-100-50-25-6 autoencoder).

**Generated as the paper describes, not the original files** (``curves.mat`` is not redistributed). Where the
description leaves a choice, lamina makes this one:

- the three points are uniform in [1.5, 25.5]^2 (pixel centres at 0..27), and the curve is the quadratic Bézier
  curve they control, which stays inside their triangle and so inside the image;
- the curve is drawn anti-aliased: a pixel's intensity is ``max(0, 1 - d)`` with ``d`` its centre's distance (in
  pixels) to the curve (a polyline of 64 segments), so a curve is a line about two pixels wide with values in
  [0, 1] and an integral across it of one pixel;
- 20,000 training and 10,000 test images (the paper's sizes); the targets are the three points ``(x0, y0, x1, y1,
  x2, y2)`` in pixels (x = column, y = row), for checking what a 6-unit code has learned.
"""

from __future__ import annotations

import math

import numpy as np
import torch

from lamina.config.fields import count
from lamina.data.dataset import Holdout, Splits
from lamina.data.generated import GeneratedImageSpec, chunked, to_uint8
from lamina.registry import register

__all__ = ["Curves", "bezier", "draw_curves"]

SIZE = 28
SEGMENTS = 64
MARGIN = 1.5  # control points stay this far inside the outer pixel centres


def bezier(points: torch.Tensor, t: torch.Tensor) -> torch.Tensor:
    """Points of quadratic Bézier curves: ``(1-t)^2 P0 + 2(1-t)t P1 + t^2 P2``.

    Shapes: ``points (N, 3, 2)``, ``t (T,)``; returns ``(N, T, 2)``.
    """
    t = t[None, :, None]
    return (1 - t) ** 2 * points[:, None, 0] + 2 * (1 - t) * t * points[:, None, 1] + t**2 * points[:, None, 2]


def draw_curves(points: torch.Tensor, size: int = SIZE) -> torch.Tensor:
    """Anti-aliased images of the Bézier curves of ``points`` (``(N, 3, 2)`` as (x, y) = (column, row)):
    intensity ``max(0, 1 - d)`` with ``d`` the distance from the pixel centre to the curve.

    Returns ``(N, size, size)`` float in [0, 1].
    """
    path = bezier(points.double(), torch.linspace(0, 1, SEGMENTS + 1, dtype=torch.float64)).float()  # (N, S+1, 2)
    rows, cols = torch.meshgrid(torch.arange(size), torch.arange(size), indexing="ij")
    px, py = cols.reshape(1, -1).float(), rows.reshape(1, -1).float()  # pixel centres as (x, y), (1, P)
    nearest = torch.full((len(points), size * size), math.inf)
    for s in range(SEGMENTS):  # the distance to each segment in turn, keeping the smallest: (N, P) at a time
        ax, ay = path[:, s, 0:1], path[:, s, 1:2]
        bx, by = path[:, s + 1, 0:1] - ax, path[:, s + 1, 1:2] - ay
        t = (((px - ax) * bx + (py - ay) * by) / (bx * bx + by * by).clamp_min(1e-12)).clamp(0, 1)
        nearest = torch.minimum(nearest, torch.hypot(px - ax - t * bx, py - ay - t * by))
    return (1 - nearest).clamp_min(0).reshape(-1, size, size)


@register("dataset", "curves")
class Curves(GeneratedImageSpec):
    """CURVES (Hinton & Salakhutdinov, 2006): 28x28 images of random smooth curves, 20,000 training and 10,000 test;
    targets are the three control points (6 numbers). Generated as the paper describes, not the original files
    (see :mod:`lamina.data.curves`)."""

    train_size: count() = 20000
    test_size: count() = 10000
    validation: Holdout = 0

    def generate(self) -> dict[str, np.ndarray]:
        """Random control points, then their anti-aliased curves."""
        out = {}
        for part, (name, n) in enumerate((("train", self.train_size), ("test", self.test_size))):

            def make(rng: np.random.Generator, start: int, k: int) -> tuple[np.ndarray, np.ndarray]:
                """``k`` curve images (uint8) and their control points, from one block's generator."""
                points = rng.uniform(MARGIN, SIZE - 1 - MARGIN, size=(k, 3, 2))
                return to_uint8(draw_curves(torch.from_numpy(points)).numpy()), points.reshape(k, 6).astype(np.float32)

            out[f"x_{name}"], out[f"y_{name}"] = chunked(n, self.seed, part, make)
        return out

    def load(self) -> Splits:
        """Generate (or read the cached copy), hold out ``validation`` training images, and scale."""
        a = self.arrays()
        return self._finish(
            torch.from_numpy(a["x_train"]),
            torch.from_numpy(a["y_train"]),
            torch.from_numpy(a["x_test"]),
            torch.from_numpy(a["y_test"]),
            max_value=255.0,
            classes=None,  # type: ignore[arg-type]  # regression targets: no classes
            name="curves",
        )
