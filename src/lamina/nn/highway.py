"""Highway layers (Srivastava, Greff & Schmidhuber, 2015): a learned gate mixes a transform with the input,

    y = H(x) * T(x) + x * (1 - T(x)),    H(x) = f(W_H x + b_H),    T(x) = sigmoid(W_T x + b_T),

so a layer can pass its input through unchanged (``T = 0``) and very deep stacks still train. A negative gate bias
``b_T`` (the paper uses -1 to -3) makes every layer start close to the identity.
"""

from __future__ import annotations

from typing import Annotated

import torch
from pydantic import Field
from torch import nn

from lamina.config.component import Bounds, spec_base, validated
from lamina.config.fields import component
from lamina.nn.activations import activation_module
from lamina.nn.init import initialize
from lamina.nn.spec import LayerSpec, Shape, require_rank
from lamina.registry import register

__all__ = ["Highway", "HighwaySpec", "highway"]


def highway(x: torch.Tensor, transformed: torch.Tensor, gate_logits: torch.Tensor) -> torch.Tensor:
    """``H * T + x * (1 - T)`` with ``T = sigmoid(gate_logits)``, written as ``x + T * (H - x)``."""
    return torch.lerp(x, transformed, torch.sigmoid(gate_logits))


class Highway(nn.Module):
    """A fully connected highway layer (see the module docstring).

    Args:
        features: the input (and output) size.
        activation: ``f`` of the transform ``H`` (``None``: linear).
        gate_bias: the initial transform-gate bias ``b_T``; negative values start the layer near the identity
            (the paper: -1 to -3).

    Shape: ``(N, features) -> (N, features)``.

    References:
        Srivastava, Greff & Schmidhuber (2015), "Training Very Deep Networks", NeurIPS; and "Highway Networks",
        arXiv:1505.00387.
    """

    @validated
    def __init__(
        self, features: Annotated[int, Bounds(ge=1)], activation: nn.Module | None = None, gate_bias: float = -2.0
    ) -> None:
        super().__init__()
        self.transform = nn.Linear(features, features)
        self.gate = nn.Linear(features, features)
        self.activation = activation if activation is not None else nn.Identity()
        self.gate_bias = gate_bias
        nn.init.constant_(self.gate.bias, gate_bias)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return highway(x, self.activation(self.transform(x)), self.gate(x))

    def extra_repr(self) -> str:
        return f"gate_bias={self.gate_bias}"


@register("layer", "highway")
class HighwaySpec(spec_base(Highway, LayerSpec, exclude=("features", "activation"))):  # type: ignore[misc]  # spec_base's base
    """Highway layer ``y = H(x) T(x) + x (1 - T(x))`` with a sigmoid transform gate (Srivastava et al., 2015);
    the output has the input's size. ``gate_bias`` is :class:`Highway`'s, with its default.

    Args:
        activation: of the transform ``H`` (default ``relu``; ``identity`` for a linear transform); the layer gets
            its module.
        init: initializer of both weight matrices.

    Shape: ``(N, F) -> (N, F)``.
    """

    activation: component("activation") = Field("relu", validate_default=True)
    init: component("initializer") | None = None

    def output_shape(self, input_shape: Shape) -> Shape:
        """``(F,) -> (F,)``; an image must be flattened first."""
        require_rank(input_shape, 1, "a highway layer", hint='; add { type = "flatten" } before it')
        return input_shape

    def build(self, input_shape: Shape) -> nn.Module:
        """A :class:`Highway` layer of the input's width, both weight matrices initialised with ``init``."""
        self.output_shape(input_shape)
        layer = Highway(input_shape[0], **self.options(activation=activation_module(self.activation)))
        initialize(layer.transform, self.init)
        initialize(layer.gate, self.init)
        return layer
