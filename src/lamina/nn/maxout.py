"""Maxout units (Goodfellow, Warde-Farley, Mirza, Courville & Bengio, 2013): each unit is the maximum of ``k``
affine pieces of its input,

    h_i(x) = max_{j=1..k} z_ij,    z_ij = x^T W_{:, i, j} + b_ij,

a learned convex piecewise-linear activation (with ``k = 2`` it can represent ReLU, leaky ReLU and |x|).
"""

from __future__ import annotations

import torch
from torch import nn

from lamina.config.fields import component, count
from lamina.nn.init import initialize
from lamina.nn.spec import LayerSpec, Shape, require_rank
from lamina.registry import register

__all__ = ["Maxout", "MaxoutSpec", "maxout"]


def maxout(z: torch.Tensor, pieces: int) -> torch.Tensor:
    """The maximum over consecutive groups of ``pieces`` features: ``(N, units * pieces) -> (N, units)``."""
    return z.unflatten(-1, (-1, pieces)).amax(dim=-1)  # (N, units, pieces) -> (N, units)


class Maxout(nn.Module):
    """A fully connected maxout layer.

    Args:
        in_features: input size.
        units: maxout units (outputs).
        pieces: affine pieces per unit, ``k``.

    Shape: ``(N, in_features) -> (N, units)``.

    Attributes:
        linear: all pieces as one ``nn.Linear(in_features, units * pieces)``; rows ``i * pieces .. (i + 1) * pieces
            - 1`` are unit ``i``'s pieces.

    References:
        Goodfellow, Warde-Farley, Mirza, Courville & Bengio (2013), "Maxout Networks", ICML.
    """

    def __init__(self, in_features: int, units: int, pieces: int = 2, bias: bool = True) -> None:
        super().__init__()
        if pieces < 1:
            raise ValueError(f"`pieces` must be a positive integer, got {pieces!r}")
        self.units, self.pieces = units, pieces
        self.linear = nn.Linear(in_features, units * pieces, bias=bias)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return maxout(self.linear(x), self.pieces)

    def extra_repr(self) -> str:
        return f"units={self.units}, pieces={self.pieces}"


@register("layer", "maxout")
class MaxoutSpec(LayerSpec):
    """Maxout layer: each of ``units`` outputs is the max of ``pieces`` affine functions (Goodfellow et al., 2013).

    Args:
        units: outputs.
        pieces: affine pieces per unit (the paper: 2 to 5).
        init, bias: as for ``dense``.

    Shape: ``(N, F) -> (N, units)``.
    """

    units: count()
    pieces: count() = 2
    bias: bool = True
    init: component("initializer") | None = None

    def output_shape(self, input_shape: Shape) -> Shape:
        """``(in_features,) -> (units,)``; an image must be flattened first."""
        require_rank(input_shape, 1, "a maxout layer", hint='; add { type = "flatten" } before it')
        return (self.units,)

    def build(self, input_shape: Shape) -> nn.Module:
        """A :class:`Maxout` layer over the input's features, its pieces initialised with ``init``."""
        self.output_shape(input_shape)
        layer = Maxout(input_shape[0], self.units, self.pieces, self.bias)
        initialize(layer.linear, self.init)
        return layer
