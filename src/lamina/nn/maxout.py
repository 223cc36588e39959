"""Maxout units (Goodfellow, Warde-Farley, Mirza, Courville & Bengio, 2013): each unit is the maximum of ``k``
affine pieces of its input,

    h_i(x) = max_{j=1..k} z_ij,    z_ij = x^T W_{:, i, j} + b_ij,

a learned convex piecewise-linear activation (with ``k = 2`` it can represent ReLU, leaky ReLU and |x|).
"""

from __future__ import annotations

from typing import Annotated

import torch
from torch import nn

from lamina.config.component import Bounds, spec_base, validated
from lamina.config.fields import component
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
        pieces: affine pieces per unit, ``k`` (the paper: 2 to 5).
        bias: learn the pieces' biases.

    Shape: ``(N, in_features) -> (N, units)``.

    Attributes:
        linear: all pieces as one ``nn.Linear(in_features, units * pieces)``; rows ``i * pieces .. (i + 1) * pieces
            - 1`` are unit ``i``'s pieces.

    References:
        Goodfellow, Warde-Farley, Mirza, Courville & Bengio (2013), "Maxout Networks", ICML.
    """

    @validated
    def __init__(
        self,
        in_features: Annotated[int, Bounds(ge=1)],
        units: Annotated[int, Bounds(ge=1)],
        pieces: Annotated[int, Bounds(ge=1)] = 2,
        bias: bool = True,
    ) -> None:
        super().__init__()
        self.units, self.pieces = units, pieces
        self.linear = nn.Linear(in_features, units * pieces, bias=bias)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return maxout(self.linear(x), self.pieces)

    def extra_repr(self) -> str:
        return f"units={self.units}, pieces={self.pieces}"


@register("layer", "maxout")
class MaxoutSpec(spec_base(Maxout, LayerSpec, exclude=("in_features",))):  # type: ignore[misc]  # spec_base's base
    """Maxout layer: each of ``units`` outputs is the max of ``pieces`` affine functions (Goodfellow et al., 2013).
    ``units``, ``pieces`` and ``bias`` are :class:`Maxout`'s, with its defaults and bounds.

    Args:
        init: initializer of the pieces' weights, as for ``dense``.

    Shape: ``(N, F) -> (N, units)``.
    """

    init: component("initializer") | None = None

    def output_shape(self, input_shape: Shape) -> Shape:
        """``(in_features,) -> (units,)``; an image must be flattened first."""
        require_rank(input_shape, 1, "a maxout layer", hint='; add { type = "flatten" } before it')
        return (self.units,)

    def build(self, input_shape: Shape) -> nn.Module:
        """A :class:`Maxout` layer over the input's features, its pieces initialised with ``init``."""
        self.output_shape(input_shape)
        layer = Maxout(input_shape[0], **self.options())
        initialize(layer.linear, self.init)
        return layer
