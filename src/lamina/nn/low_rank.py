"""Low-rank dense layers: the weight matrix is a product of two thin factors,

    y = x (U V)^T + b,    U: (units, rank),    V: (rank, in_features),

so a layer of ``in_features -> units`` has ``rank * (in_features + units)`` weights instead of
``in_features * units`` (Sainath, Kingsbury, Sindhwani, Arisoy & Ramabhadran, 2013; Denil et al., 2013). The full
matrix is never formed: the input goes through ``V`` and then ``U``.
"""

from __future__ import annotations

from typing import Annotated

import torch
import torch.nn.functional as F
from torch import nn

from lamina.config.component import Bounds, spec_base, validated
from lamina.config.fields import component
from lamina.nn.layers import with_activation
from lamina.nn.spec import LayerSpec, Shape, require_rank
from lamina.registry import register

__all__ = ["LowRankDenseSpec", "LowRankLinear"]


class LowRankLinear(nn.Module):
    """A fully connected layer whose weight is ``W = U V`` of rank at most ``rank``.

    Args:
        in_features: input size.
        units: output size.
        rank: inner size of the factorisation (a rank ``>= min(in_features, units)`` can hold any matrix).
        bias: whether to learn ``b``.

    Shape: ``(N, in_features) -> (N, units)``.

    Attributes:
        u: ``(units, rank)``.
        v: ``(rank, in_features)``.
        bias: ``(units,)`` or ``None``.

    The factors start as i.i.d. normals of variance ``sqrt(2 / ((in_features + units) rank))`` each, so every entry
    of ``U V`` (a sum of ``rank`` products) has Glorot's variance ``2 / (in_features + units)``; the bias starts at 0.

    References:
        Sainath, Kingsbury, Sindhwani, Arisoy & Ramabhadran (2013), "Low-rank matrix factorization for deep neural
        network training with high-dimensional output targets", ICASSP.
    """

    @validated
    def __init__(
        self,
        in_features: Annotated[int, Bounds(ge=1)],
        units: Annotated[int, Bounds(ge=1)],
        rank: Annotated[int, Bounds(ge=1)],
        bias: bool = True,
    ) -> None:
        super().__init__()
        self.in_features, self.units, self.rank = in_features, units, rank
        std = (2.0 / ((in_features + units) * rank)) ** 0.25  # Var(U V)_ij = rank * std^4 = 2 / (fan_in + fan_out)
        self.u = nn.Parameter(torch.randn(units, rank) * std)
        self.v = nn.Parameter(torch.randn(rank, in_features) * std)
        self.bias = nn.Parameter(torch.zeros(units)) if bias else None

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return F.linear(F.linear(x, self.v), self.u, self.bias)  # (N, in) -> (N, rank) -> (N, units)

    def full_weight(self) -> torch.Tensor:
        """The dense weight ``U V``, ``(units, in_features)``, as ``nn.Linear`` holds it."""
        return self.u @ self.v

    def extra_repr(self) -> str:
        return f"in_features={self.in_features}, units={self.units}, rank={self.rank}, bias={self.bias is not None}"


@register("layer", "low_rank_dense")
class LowRankDenseSpec(spec_base(LowRankLinear, LayerSpec, exclude=("in_features",))):  # type: ignore[misc]  # a base made by spec_base
    """Dense layer whose weight ``W = U V`` has rank at most ``rank`` (Sainath et al., 2013): ``rank (in + units)``
    weights instead of ``in * units``. ``units``, ``rank`` and ``bias``: :class:`LowRankLinear`'s.

    Args:
        activation: applied after the affine map (``None``: linear).

    Shape: ``(N, in_features) -> (N, units)``.
    """

    activation: component("activation") | None = None

    def output_shape(self, input_shape: Shape) -> Shape:
        """``(in_features,) -> (units,)``; an image must be flattened first."""
        require_rank(input_shape, 1, "a low_rank_dense layer", hint='; add { type = "flatten" } before it')
        return (self.units,)

    def build(self, input_shape: Shape) -> nn.Module:
        """A :class:`LowRankLinear` over the input's features, then the activation."""
        self.output_shape(input_shape)
        return with_activation(LowRankLinear(input_shape[0], **self.options()), self.activation)
