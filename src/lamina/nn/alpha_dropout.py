"""Alpha dropout (Klambauer, Unterthiner, Mayr & Hochreiter, 2017): the dropout that keeps SELU networks
self-normalising.

Plain dropout sets activations to 0, which shifts a SELU layer's zero-mean, unit-variance output. Alpha dropout
sets them to SELU's negative saturation value ``alpha' = -lambda * alpha`` instead, then restores the moments with
an affine map::

    d ~ Bernoulli(q),  q = 1 - p
    y = a (x d + alpha' (1 - d)) + b,   a = (q + alpha'^2 q (1 - q))^(-1/2),   b = -a (1 - q) alpha'

so that inputs of mean 0 and variance 1 leave with mean 0 and variance 1. Use it with ``selu`` activations and
``lecun_normal`` initialisation.
"""

from __future__ import annotations

import math
from typing import Annotated

import torch
from torch import nn

from lamina.config.component import Bounds, spec_base, validated
from lamina.nn.random_drop import RandomDrop
from lamina.nn.spec import LayerSpec, Shape
from lamina.registry import register

__all__ = ["AlphaDropout", "AlphaDropoutSpec", "alpha_dropout", "SELU_ALPHA", "SELU_LAMBDA"]

# the fixed point constants of SELU (Klambauer et al., 2017, eq. 14), as torch.nn.SELU uses them
SELU_ALPHA = 1.6732632423543772848170429916717
SELU_LAMBDA = 1.0507009873554804934193349852946


def alpha_dropout(
    x: torch.Tensor, p: float, *, training: bool = True, generator: torch.Generator | None = None
) -> torch.Tensor:
    """Alpha dropout of ``x`` with drop probability ``p`` (see the module docstring); the identity outside training."""
    if not 0.0 <= p < 1.0:
        raise ValueError(f"`p` must be in [0, 1), got {p!r}")
    if not training or p == 0.0:
        return x
    q, saturation = 1.0 - p, -SELU_LAMBDA * SELU_ALPHA
    a = 1.0 / math.sqrt(q + saturation**2 * q * (1.0 - q))
    b = -a * (1.0 - q) * saturation
    keep = (torch.rand(x.shape, generator=generator, device=x.device) >= p).to(x.dtype)
    return a * (x * keep + saturation * (1.0 - keep)) + b


class AlphaDropout(RandomDrop):
    """Alpha dropout for SELU networks: see :func:`alpha_dropout`.

    Args:
        p: drop probability (the paper uses 0.05 to 0.1).

    Shape: unchanged.

    References:
        Klambauer, Unterthiner, Mayr & Hochreiter (2017), "Self-Normalizing Neural Networks", NeurIPS.
    """

    function = staticmethod(alpha_dropout)

    @validated
    def __init__(self, p: Annotated[float, Bounds(ge=0, lt=1)] = 0.05) -> None:
        super().__init__(p)


@register("layer", "alpha_dropout")
class AlphaDropoutSpec(spec_base(AlphaDropout, LayerSpec)):  # type: ignore[misc]  # a base made by spec_base
    """Dropout that keeps a SELU network's activations at zero mean and unit variance (Klambauer et al., 2017).
    Shape unchanged. ``p``: :class:`AlphaDropout`'s, with its default and bounds."""

    def output_shape(self, input_shape: Shape) -> Shape:
        """Alpha dropout keeps the shape."""
        return input_shape

    def build(self, input_shape: Shape) -> nn.Module:
        """An :class:`AlphaDropout` with drop probability ``p``."""
        return AlphaDropout(**self.options())
