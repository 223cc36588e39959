"""Random affine distortions of training images: a rotation and an independent scaling of each axis about the image's
centre, drawn per image, as Ciresan, Meier, Gambardella & Schmidhuber (2010, "Deep, big, simple neural nets for
handwritten digit recognition", Neural Computation 22) apply before their elastic distortions (rotation up to 5 to
15 degrees, scaling by up to 15 to 20 percent).

For image ``i`` an angle ``theta_i`` is drawn uniform in ``[-rotation, rotation]`` degrees and scale factors
``s_y, s_x`` uniform in ``[1 - scale, 1 + scale]``. The output's pixel ``p`` (row, column) reads the input at
``c + S^-1 R(-theta) (p - c)``, ``c`` the centre ``((H - 1) / 2, (W - 1) / 2)``: the content is scaled by ``s`` and
rotated by ``theta`` (a positive angle turns it clockwise as displayed, rows running down). The reading is the
bilinear rule of :func:`lamina.data.elastic.bilinear_sample` (zero outside the image), so the whole batch is
resampled at once on its device; ``rotation = scale = 0`` is the exact identity.
"""

from __future__ import annotations

import math
from typing import Annotated

import torch
from torch import nn

from lamina.config.component import Bounds, spec_base, validated
from lamina.data.elastic import bilinear_sample, image_batch
from lamina.data.transforms import TransformSpec
from lamina.registry import register

__all__ = ["RandomAffine", "RandomAffineSpec", "affine_displacements", "random_affine"]


def affine_displacements(
    theta: torch.Tensor, scale_y: torch.Tensor, scale_x: torch.Tensor, height: int, width: int
) -> tuple[torch.Tensor, torch.Tensor]:
    """The displacements ``(dy, dx)``, each ``(N, H, W)`` in pixels, that read every output pixel ``p`` from
    ``c + S^-1 R(-theta) (p - c)`` (``theta`` in radians, ``(N,)``; scales ``(N,)``; ``c`` the image's centre)."""
    dtype, device = theta.dtype, theta.device
    rows = torch.arange(height, dtype=dtype, device=device).view(1, height, 1) - (height - 1) / 2
    cols = torch.arange(width, dtype=dtype, device=device).view(1, 1, width) - (width - 1) / 2
    cos, sin = torch.cos(theta).view(-1, 1, 1), torch.sin(theta).view(-1, 1, 1)
    # R(-theta) in (x, y) = (column, row) coordinates with y pointing down: x' = cos x + sin y, y' = -sin x + cos y
    x = (cos * cols + sin * rows) / scale_x.view(-1, 1, 1)
    y = (-sin * cols + cos * rows) / scale_y.view(-1, 1, 1)
    return y - rows, x - cols


def random_affine(
    images: torch.Tensor, rotation: float, scale: float, *, generator: torch.Generator | None = None
) -> torch.Tensor:
    """A batch of images, each rotated by up to ``rotation`` degrees and each axis scaled by a factor in
    ``[1 - scale, 1 + scale]``, about its centre (Ciresan et al., 2010).

    Args:
        images: ``(N, C, H, W)``, ``(N, H, W)``, or ``(N, D)`` with ``D`` a square (one channel).
        rotation: the largest angle, in degrees.
        scale: the largest relative change of size, per axis.
        generator: the source of the draws (``None``: torch's global generator on the images' device).

    Returns:
        The distorted images, shaped like ``images``.
    """
    x = image_batch(images, "affine distortion")
    n, _, h, w = x.shape
    dtype = x.dtype if x.is_floating_point() else torch.float32
    draws = torch.rand(3, n, generator=generator, device=x.device, dtype=dtype) * 2 - 1  # uniform in [-1, 1]
    theta = draws[0] * math.radians(rotation)
    dy, dx = affine_displacements(theta, 1 + scale * draws[1], 1 + scale * draws[2], h, w)
    return bilinear_sample(x, dy, dx).view(images.shape)


class RandomAffine(nn.Module):
    """Random rotation and per-axis scaling of every image of a batch (Ciresan et al., 2010): see
    :func:`random_affine`.

    Args:
        rotation: the largest angle, in degrees (Ciresan et al.: 5 to 15); 0 draws none.
        scale: the largest relative change of each axis' size (Ciresan et al.: 0.15 to 0.20); 0 draws none.

    Shape: ``(N, C, H, W)``, ``(N, H, W)`` or ``(N, D)`` with ``D`` square; unchanged.

    Attributes:
        generator: the draws' source (``None``: the global generator, which the trainer seeds).
    """

    @validated
    def __init__(
        self,
        rotation: Annotated[float, Bounds(ge=0, le=180)] = 15.0,
        scale: Annotated[float, Bounds(ge=0, lt=1)] = 0.15,
    ) -> None:
        super().__init__()
        self.rotation, self.scale = rotation, scale
        self.generator: torch.Generator | None = None

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """The distorted batch."""
        if not isinstance(x, torch.Tensor):
            raise TypeError("affine distortion transforms one image input; this dataset has several inputs")
        return random_affine(x, self.rotation, self.scale, generator=self.generator)

    def extra_repr(self) -> str:
        return f"rotation={self.rotation}, scale={self.scale}"


@register("transform", "affine", aliases=("random_affine",))
class RandomAffineSpec(spec_base(RandomAffine, TransformSpec)):  # type: ignore[misc]  # spec_base's base
    """Random rotation (up to ``rotation`` degrees) and per-axis scaling (by up to ``scale``) of training images
    about their centre (Ciresan et al., 2010); list it before ``elastic`` to distort as they do."""

    def build(self) -> RandomAffine:
        """The :class:`RandomAffine` module."""
        return RandomAffine(**self.options())
