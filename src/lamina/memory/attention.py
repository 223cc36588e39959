"""The modern Hopfield network as a layer: inputs retrieve from a set of learned stored patterns.

Each input ``r`` becomes a state ``xi = W_Q r``, is updated ``steps - 1`` times by the Hopfield rule
``xi <- K^T softmax(beta K xi)`` over the learned stored patterns ``K`` (``num_patterns x hidden``), and the final
association weights read out learned values ``V`` (``num_patterns x units``): ``y = V^T softmax(beta K xi)``.
With ``steps = 1`` this is attention of the input over ``num_patterns`` learned key/value pairs (Ramsauer et al.'s
``HopfieldLayer``); more steps let the state settle nearer a stored pattern first.

References:
    H. Ramsauer et al., "Hopfield Networks is All You Need", 2020 (ICLR 2021).
"""

from __future__ import annotations

import math
from typing import Annotated

import torch
from torch import nn

from lamina.config.component import Bounds, spec_base, validated
from lamina.nn.spec import LayerSpec, Shape, require_rank
from lamina.registry import register

__all__ = ["HopfieldAttention", "HopfieldAttentionSpec"]


class HopfieldAttention(nn.Module):
    """Retrieval from learned stored patterns: ``y = V^T softmax(beta K xi)`` with ``xi = W_Q r`` updated
    ``steps - 1`` times by ``xi <- K^T softmax(beta K xi)``.

    Args:
        in_features: features of each input ``r``.
        units: features of each output ``y``.
        num_patterns: stored patterns (keys ``K`` and values ``V``), learned.
        hidden: dimension of the states and patterns (default ``in_features``).
        beta: inverse temperature (default ``1 / sqrt(hidden)``, as scaled dot-product attention).
        steps: Hopfield updates, the last of which reads out the values (``>= 1``; 1: one attention read-out).
        device, dtype: of the parameters.

    Shape:
        ``(N, in_features) -> (N, units)``, or ``(N, L, in_features) -> (N, L, units)`` for ``L`` inputs each.

    Attributes:
        query: ``nn.Linear(in_features, hidden, bias=False)``, torch's default initialisation.
        keys: ``(num_patterns, hidden)``, ``N(0, 1)``, so ``beta K xi`` starts at unit scale.
        values: ``(num_patterns, units)``, ``U(-1/sqrt(num_patterns), 1/sqrt(num_patterns))``.

    Example::

        layer = HopfieldAttention(16, units=4, num_patterns=32)
        y = layer(torch.randn(8, 16))        # (8, 4)

    References:
        H. Ramsauer et al., "Hopfield Networks is All You Need", 2020.
    """

    @validated
    def __init__(
        self,
        in_features: Annotated[int, Bounds(ge=1)],
        units: Annotated[int, Bounds(ge=1)],
        num_patterns: Annotated[int, Bounds(ge=1)],
        *,
        hidden: Annotated[int | None, Bounds(ge=1)] = None,
        beta: Annotated[float | None, Bounds(gt=0)] = None,
        steps: Annotated[int, Bounds(ge=1)] = 1,
        device: torch.device | str | None = None,
        dtype: torch.dtype | None = None,
    ) -> None:
        super().__init__()
        hidden = hidden or in_features
        self.beta = beta if beta is not None else 1.0 / math.sqrt(hidden)
        self.steps = steps
        factory = {"device": device, "dtype": dtype}
        self.query = nn.Linear(in_features, hidden, bias=False, **factory)
        self.keys = nn.Parameter(torch.empty(num_patterns, hidden, **factory))
        self.values = nn.Parameter(torch.empty(num_patterns, units, **factory))
        self.reset_parameters()

    def reset_parameters(self) -> None:
        self.query.reset_parameters()
        nn.init.normal_(self.keys)
        bound = 1.0 / math.sqrt(self.values.shape[0])
        nn.init.uniform_(self.values, -bound, bound)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        state = self.query(x)  # (N, [L,] hidden)
        for _ in range(self.steps - 1):
            state = torch.softmax(self.beta * state @ self.keys.t(), dim=-1) @ self.keys
        weights = torch.softmax(self.beta * state @ self.keys.t(), dim=-1)  # (N, [L,] num_patterns)
        return weights @ self.values

    def extra_repr(self) -> str:
        return (
            f"in_features={self.query.in_features}, units={self.values.shape[1]}, "
            f"num_patterns={self.keys.shape[0]}, hidden={self.keys.shape[1]}, beta={self.beta:.4g}, "
            f"steps={self.steps}"
        )


_SIZED_BY_THE_BUILDER = ("in_features", "device", "dtype")


@register("layer", "hopfield_attention", aliases=("hopfield_layer",))
class HopfieldAttentionSpec(spec_base(HopfieldAttention, LayerSpec, exclude=_SIZED_BY_THE_BUILDER)):  # type: ignore[misc]  # spec_base's base
    """A modern Hopfield layer over learned stored patterns (Ramsauer et al., 2020). ``units``, ``num_patterns``,
    ``hidden``, ``beta`` and ``steps`` are :class:`HopfieldAttention`'s, with its defaults and bounds.

    Shape: ``(N, F) -> (N, units)`` or ``(N, L, F) -> (N, L, units)``.
    """

    def output_shape(self, input_shape: Shape) -> Shape:
        """``(F,) -> (units,)`` or ``(L, F) -> (L, units)``; other ranks are refused."""
        require_rank(
            input_shape, (1, 2), "a hopfield_attention layer", hint="; inputs are (features,) or (length, features)"
        )
        return (*input_shape[:-1], self.units)

    def build(self, input_shape: Shape) -> nn.Module:
        """A :class:`HopfieldAttention` over the input's last dimension."""
        self.output_shape(input_shape)
        return HopfieldAttention(input_shape[-1], **self.options())
