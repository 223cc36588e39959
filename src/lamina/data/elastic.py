"""Elastic distortions (Simard, Steinkraus & Platt, 2003, "Best practices for convolutional neural networks applied
to visual document analysis", ICDAR): each image is resampled through its own random, smooth displacement field.

For an image of ``H x W`` pixels, the two components of the field are drawn uniform in [-1, 1] at every pixel,
smoothed by a Gaussian of standard deviation ``sigma`` (pixels) and scaled by ``alpha``; pixel ``(r, c)`` of the
output is the input read at ``(r + dy, c + dx)`` by bilinear interpolation (zero outside the image). Simard et al.
use ``sigma = 4`` and ``alpha = 34`` on MNIST.

The whole batch is distorted at once on its device: the fields are one ``(N, 2, H, W)`` tensor smoothed by a
separable convolution, and the sampling gathers the four neighbours of every output pixel. This sampling is the
bilinear rule of ``torch.nn.functional.grid_sample`` (``align_corners=True``, zero padding) written in pixel
coordinates, so that a zero displacement reproduces the input exactly (grid_sample's normalised coordinates round
off by about 1e-6); the tests check the two agree.
"""

from __future__ import annotations

import math
from typing import Annotated, Any

import torch
import torch.nn.functional as F
from torch import nn

from lamina.config.component import Bounds, spec_base, validated
from lamina.data.transforms import TransformSpec
from lamina.registry import register

__all__ = [
    "ElasticDistortion",
    "ElasticDistortionSpec",
    "bilinear_sample",
    "elastic_distort",
    "gaussian_kernel",
    "image_batch",
    "smoothed_noise",
]


def gaussian_kernel(sigma: float, *, dtype: torch.dtype = torch.float32, device: Any = None) -> torch.Tensor:
    """The normalised 1-D Gaussian of std ``sigma`` on the integers ``-ceil(4 sigma) .. ceil(4 sigma)``."""
    radius = max(1, math.ceil(4 * sigma))
    x = torch.arange(-radius, radius + 1, dtype=dtype, device=device)
    kernel = torch.exp(-(x**2) / (2 * sigma**2))
    return kernel / kernel.sum()


def smoothed_noise(
    n: int, height: int, width: int, sigma: float, *, generator: torch.Generator | None = None, device: Any = None
) -> torch.Tensor:
    """Displacement fields before scaling: uniform noise in [-1, 1] per pixel and component, smoothed by a Gaussian
    of std ``sigma`` (zero beyond the image).

    Returns ``(n, 2, height, width)``. Away from the border each value has std ``sqrt(1/3) * sum(k**2)`` with
    ``k`` the :func:`gaussian_kernel` (the 2-D kernel is its outer product).
    """
    noise = torch.rand(n * 2, 1, height, width, generator=generator, device=device) * 2 - 1
    kernel = gaussian_kernel(sigma, device=noise.device)
    r = len(kernel) // 2
    out = F.conv2d(noise, kernel.view(1, 1, 1, -1), padding=(0, r))
    out = F.conv2d(out, kernel.view(1, 1, -1, 1), padding=(r, 0))
    return out.view(n, 2, height, width)


def bilinear_sample(images: torch.Tensor, dy: torch.Tensor, dx: torch.Tensor) -> torch.Tensor:
    """Read each image at its pixel grid displaced by ``(dy, dx)`` (rows, columns), bilinear, zero outside.

    Shapes: ``images (N, C, H, W)``, ``dy, dx (N, H, W)``; returns ``(N, C, H, W)``. A zero displacement returns
    the images exactly.
    """
    n, c, h, w = images.shape
    rows = torch.arange(h, device=images.device, dtype=dy.dtype).view(1, h, 1)
    cols = torch.arange(w, device=images.device, dtype=dx.dtype).view(1, 1, w)
    y, x = rows + dy, cols + dx
    y0, x0 = torch.floor(y), torch.floor(x)
    wy, wx = (y - y0).to(images.dtype), (x - x0).to(images.dtype)
    y0, x0 = y0.long(), x0.long()
    flat = images.reshape(n, c, h * w)
    out = torch.zeros_like(flat)
    for oy, ox, weight in ((0, 0, (1 - wy) * (1 - wx)), (0, 1, (1 - wy) * wx), (1, 0, wy * (1 - wx)), (1, 1, wy * wx)):
        yy, xx = y0 + oy, x0 + ox
        inside = (yy >= 0) & (yy < h) & (xx >= 0) & (xx < w)
        index = (yy.clamp(0, h - 1) * w + xx.clamp(0, w - 1)).view(n, 1, h * w).expand(n, c, h * w)
        out = out + torch.gather(flat, 2, index) * (weight * inside).view(n, 1, h * w)
    return out.view(n, c, h, w)


def image_batch(images: torch.Tensor, what: str) -> torch.Tensor:
    """``images`` as ``(N, C, H, W)``: ``(N, H, W)`` gets one channel, ``(N, D)`` with ``D`` a square becomes
    ``(N, 1, sqrt(D), sqrt(D))`` (a view); ``what`` names the transform in the error for any other shape."""
    shape = images.shape
    if images.dim() == 2:
        side = math.isqrt(shape[1])
        if side * side != shape[1]:
            raise ValueError(f"{what}: flat inputs of {shape[1]} features are not square images; give (N, C, H, W)")
        return images.view(shape[0], 1, side, side)
    if images.dim() == 3:
        return images.unsqueeze(1)
    if images.dim() == 4:
        return images
    raise ValueError(f"{what}: expected images (N, C, H, W), (N, H, W) or (N, D), got {tuple(shape)}")


def elastic_distort(
    images: torch.Tensor, alpha: float, sigma: float, *, generator: torch.Generator | None = None
) -> torch.Tensor:
    """A batch of images, each through its own elastic distortion (Simard et al., 2003).

    Args:
        images: ``(N, C, H, W)``, ``(N, H, W)``, or ``(N, D)`` with ``D`` a square (one channel).
        alpha: the displacements' scale (pixels per unit of smoothed noise); 0 returns the images unchanged.
        sigma: the smoothing Gaussian's std, in pixels.
        generator: the source of the fields (``None``: torch's global generator on the images' device).

    Returns:
        The distorted images, shaped like ``images``.
    """
    shape = images.shape
    x = image_batch(images, "elastic distortion")
    n, _, h, w = x.shape
    field = alpha * smoothed_noise(n, h, w, sigma, generator=generator, device=x.device).to(
        x.dtype if x.is_floating_point() else torch.float32
    )
    return bilinear_sample(x, field[:, 0], field[:, 1]).view(shape)


class ElasticDistortion(nn.Module):
    """Elastic distortion of every image of a batch (Simard, Steinkraus & Platt, 2003): see :func:`elastic_distort`.

    Args:
        alpha: displacement scale in pixels (Simard et al.: 34 for MNIST); 0 is the identity.
        sigma: std of the Gaussian smoothing the fields, in pixels (Simard et al.: 4).

    Shape: ``(N, C, H, W)``, ``(N, H, W)`` or ``(N, D)`` with ``D`` square; unchanged.

    Attributes:
        generator: the fields' source (``None``: the global generator, which the trainer seeds).
    """

    @validated
    def __init__(
        self, alpha: Annotated[float, Bounds(ge=0)] = 34.0, sigma: Annotated[float, Bounds(gt=0)] = 4.0
    ) -> None:
        super().__init__()
        self.alpha, self.sigma = alpha, sigma
        self.generator: torch.Generator | None = None

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """The distorted batch."""
        if not isinstance(x, torch.Tensor):
            raise TypeError("elastic distortion transforms one image input; this dataset has several inputs")
        return elastic_distort(x, self.alpha, self.sigma, generator=self.generator)

    def extra_repr(self) -> str:
        return f"alpha={self.alpha}, sigma={self.sigma}"


@register("transform", "elastic", aliases=("elastic_distortion",))
class ElasticDistortionSpec(spec_base(ElasticDistortion, TransformSpec)):  # type: ignore[misc]  # spec_base's base
    """Elastic distortions of training images (Simard et al., 2003): ``alpha`` (pixels, 34 for MNIST) scales
    uniform noise smoothed by a Gaussian of std ``sigma`` (pixels, 4 for MNIST)."""

    def build(self) -> ElasticDistortion:
        """The :class:`ElasticDistortion` module."""
        return ElasticDistortion(**self.options())
