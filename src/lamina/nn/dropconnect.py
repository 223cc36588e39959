"""DropConnect (Wan, Zeiler, Zhang, LeCun & Fergus, 2013): dropout of weights instead of activations.

During training a fully connected layer uses a random subset of its weights,

    y = f( ((M * W) x) / (1 - p) + b ),    M_ij ~ Bernoulli(1 - p),

the ``1 / (1 - p)`` making the expected pre-activation equal to the full layer's ``W x + b`` ("inverted"
DropConnect, as torch's dropout is inverted), so evaluation can use ``W`` unchanged (``inference = "mean"``).
The paper's own inference (its Algorithm 2) matches the first two moments of the pre-activation with a Gaussian,

    u ~ N(W x, p / (1 - p) (W * W)(x * x)),    y = mean over samples of f(u + b),

which differs from the mean network when ``f`` is nonlinear (``inference = "gaussian"``).

One mask per batch (the default) costs one element-wise product of ``W``; a mask per example (as in the paper)
costs a batched matrix product and ``N * out * in`` memory.
"""

from __future__ import annotations

import math
from typing import Annotated

import torch
from torch import nn
from torch.nn import functional as F

from lamina.config.component import Bounds, Choices, spec_base, validated
from lamina.config.fields import component
from lamina.nn.activations import activation_module
from lamina.nn.init import initialize
from lamina.nn.spec import LayerSpec, Shape, require_rank
from lamina.registry import register

__all__ = ["DropConnect", "DropConnectSpec", "dropconnect_mask", "dropconnect_linear", "dropconnect_gaussian"]


def dropconnect_mask(
    shape: tuple[int, ...],
    p: float,
    *,
    dtype: torch.dtype = torch.float32,
    device: torch.device | None = None,
    generator: torch.Generator | None = None,
) -> torch.Tensor:
    """A 0/1 mask of ``shape`` whose entries are 1 with probability ``1 - p``."""
    if not 0.0 <= p < 1.0:
        raise ValueError(f"`p` must be in [0, 1), got {p!r}")
    return (torch.rand(shape, generator=generator, device=device) >= p).to(dtype)


def dropconnect_linear(
    x: torch.Tensor, weight: torch.Tensor, bias: torch.Tensor | None, mask: torch.Tensor, p: float
) -> torch.Tensor:
    """``((mask * W) x) / (1 - p) + b``.

    Args:
        x: ``(N, in)``.
        weight: ``(out, in)``.
        bias: ``(out,)`` or ``None``.
        mask: ``(out, in)`` (one for the batch) or ``(N, out, in)`` (one per example), entries 0 or 1.
        p: the drop probability the mask was drawn with.

    Returns:
        ``(N, out)``.
    """
    masked = weight * mask / (1.0 - p)
    if mask.dim() == 2:
        return F.linear(x, masked, bias)
    out = torch.bmm(masked, x.unsqueeze(-1)).squeeze(-1)  # (N, out, in) @ (N, in, 1) -> (N, out)
    return out if bias is None else out + bias


def dropconnect_gaussian(
    x: torch.Tensor,
    weight: torch.Tensor,
    bias: torch.Tensor | None,
    p: float,
    activation: nn.Module,
    samples: int,
    generator: torch.Generator | None = None,
) -> torch.Tensor:
    """Wan et al.'s inference: the mean of ``activation(u + b)`` over ``samples`` draws of the Gaussian
    ``u ~ N(W x, p / (1 - p) (W * W)(x * x))`` that matches the training pre-activation's mean and variance."""
    mean = F.linear(x, weight)  # (N, out)
    std = torch.sqrt(F.linear(x * x, weight * weight) * (p / (1.0 - p)))  # (N, out)
    noise = torch.randn((samples, *mean.shape), generator=generator, device=x.device, dtype=x.dtype)
    u = mean + std * noise  # (samples, N, out)
    if bias is not None:
        u = u + bias
    return activation(u).mean(dim=0)


class DropConnect(nn.Module):
    """A fully connected layer regularised by DropConnect (see the module docstring).

    Args:
        in_features: input size.
        units: outputs.
        p: probability of dropping each weight (the paper: 0.5).
        bias: learn ``b`` (never dropped).
        activation: ``f``; the Gaussian inference needs it inside the layer.
        per_example: a fresh mask for every example (the paper; memory ``N * units * in``) rather than one per
            batch.
        inference: ``mean`` (the full weights) or ``gaussian`` (moment matching over ``samples`` draws, Wan et
            al., Alg. 2).
        samples: Gaussian draws per unit at inference.

    Shape: ``(N, in_features) -> (N, units)``. (``units`` was ``out_features``: the keyword is the experiment
    file's key.)

    Attributes:
        weight: ``(units, in_features)``, initialised like ``nn.Linear``'s.
        out_features: ``units``, under ``nn.Linear``'s name.
        generator: the masks' source (``None``: the global generator, which the trainer seeds).

    References:
        Wan, Zeiler, Zhang, LeCun & Fergus (2013), "Regularization of Neural Networks using DropConnect", ICML.
    """

    @validated(renamed={"out_features": "units"})
    def __init__(
        self,
        in_features: Annotated[int, Bounds(ge=1)],
        units: Annotated[int, Bounds(ge=1)],
        p: Annotated[float, Bounds(ge=0, lt=1)] = 0.5,
        *,
        activation: nn.Module | None = None,
        per_example: bool = False,
        inference: Annotated[str, Choices("mean", "gaussian")] = "mean",
        samples: Annotated[int, Bounds(ge=1)] = 100,
        bias: bool = True,
    ) -> None:
        super().__init__()
        self.in_features, self.units, self.out_features, self.p = in_features, units, units, p
        self.per_example, self.inference, self.samples = per_example, inference, samples
        self.weight = nn.Parameter(torch.empty(units, in_features))
        self.bias = nn.Parameter(torch.empty(units)) if bias else None
        self.activation = activation if activation is not None else nn.Identity()
        self.generator: torch.Generator | None = None
        self.reset_parameters()

    def reset_parameters(self) -> None:
        """``nn.Linear``'s initialisation: U(-1/sqrt(in), 1/sqrt(in)) for weights and biases."""
        nn.init.kaiming_uniform_(self.weight, a=math.sqrt(5))
        if self.bias is not None:
            bound = 1 / math.sqrt(self.in_features)
            nn.init.uniform_(self.bias, -bound, bound)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.training and self.p > 0:
            shape = (x.shape[0], *self.weight.shape) if self.per_example else tuple(self.weight.shape)
            mask = dropconnect_mask(shape, self.p, dtype=x.dtype, device=x.device, generator=self.generator)
            return self.activation(dropconnect_linear(x, self.weight, self.bias, mask, self.p))
        if self.inference == "gaussian" and self.p > 0 and not isinstance(self.activation, nn.Identity):
            return dropconnect_gaussian(
                x, self.weight, self.bias, self.p, self.activation, self.samples, self.generator
            )
        return self.activation(F.linear(x, self.weight, self.bias))

    def extra_repr(self) -> str:
        return (
            f"in_features={self.in_features}, units={self.units}, p={self.p}, "
            f"per_example={self.per_example}, inference={self.inference!r}"
        )


@register("layer", "dropconnect", aliases=("drop_connect",))
class DropConnectSpec(spec_base(DropConnect, LayerSpec, exclude=("in_features", "activation"))):  # type: ignore[misc]  # spec_base's base
    """Fully connected layer whose weights are dropped with probability ``p`` in training (Wan et al., 2013).
    ``units``, ``p``, ``per_example``, ``inference``, ``samples`` and ``bias`` are :class:`DropConnect`'s, with
    its defaults and bounds.

    Args:
        activation: ``f`` (inside the layer, for the Gaussian inference); the layer gets its module.
        init, bias_init: as for ``dense``.

    Shape: ``(N, F) -> (N, units)``.
    """

    activation: component("activation") | None = None
    init: component("initializer") | None = None
    bias_init: component("initializer") | None = None

    def output_shape(self, input_shape: Shape) -> Shape:
        """``(in_features,) -> (units,)``; an image must be flattened first."""
        require_rank(input_shape, 1, "a dropconnect layer", hint='; add { type = "flatten" } before it')
        return (self.units,)

    def build(self, input_shape: Shape) -> nn.Module:
        """A :class:`DropConnect` layer over the input's features (initialised as asked), with the activation inside."""
        self.output_shape(input_shape)
        layer = DropConnect(input_shape[0], **self.options(activation=activation_module(self.activation)))
        return initialize(layer, self.init, self.bias_init)
