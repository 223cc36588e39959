"""Activation functions by name, usable as a layer option (``activation = "relu"``) and as layers of their own
(``{ type = "relu" }``). Each builds the torch module.
"""

from __future__ import annotations

from typing import ClassVar

import torch
from torch import nn

from lamina.config.fields import number
from lamina.config.spec import Spec
from lamina.nn.spec import LayerSpec, Shape
from lamina.registry import register

__all__ = ["ActivationSpec", "activation_module"]


class ActivationSpec(Spec):
    """An element-wise (or, for softmax, per-row) nonlinearity; its output has its input's shape.

    A subclass names its torch module as ``target_class``; its options are that module's keyword arguments, with
    torch's names and defaults (issue 25).
    """

    def module(self) -> nn.Module:
        """The torch module applying the function: ``target_class(**options)``."""
        if self.target_class is None:
            raise NotImplementedError(f"{type(self).__name__} names no target_class")
        return self.target_class(**self.options())

    def output_shape(self, input_shape: Shape) -> Shape:
        """Activations keep the shape."""
        return input_shape

    def build(self, input_shape: Shape | None = None) -> nn.Module:
        """The torch module (``input_shape`` is ignored: activations take any shape)."""
        return self.module()


def _activation(name: str, aliases: tuple[str, ...] = ()):
    """Register an activation spec as an activation and as a layer of the same name."""

    def _decorate(cls: type[ActivationSpec]) -> type[ActivationSpec]:
        register("activation", name, aliases=aliases)(cls)
        layer = type(f"{cls.__name__}Layer", (cls, LayerSpec), {"__module__": cls.__module__, "__doc__": cls.__doc__})
        register("layer", name, aliases=aliases)(layer)
        return cls

    return _decorate


@_activation("relu")
class ReLU(ActivationSpec):
    """max(0, x) (Nair & Hinton, 2010)."""

    target_class: ClassVar[type] = nn.ReLU


@_activation("leaky_relu")
class LeakyReLU(ActivationSpec):
    """max(0, x) + negative_slope * min(0, x) (Maas et al., 2013)."""

    negative_slope: number(0) = 0.01

    target_class: ClassVar[type] = nn.LeakyReLU


@_activation("sigmoid", aliases=("logistic",))
class Sigmoid(ActivationSpec):
    """1 / (1 + exp(-x)); its derivative is at most 1/4, why deep sigmoid nets' gradients vanish."""

    target_class: ClassVar[type] = nn.Sigmoid


@_activation("tanh")
class Tanh(ActivationSpec):
    """tanh(x) = 2 sigmoid(2x) - 1."""

    target_class: ClassVar[type] = nn.Tanh


class ScaledTanhModule(nn.Module):
    """``a tanh(b x)`` (LeCun, Bottou, Orr & Mueller, 1998, "Efficient BackProp": ``a = 1.7159``, ``b = 2/3``, so
    that ``f(1) = 1`` and ``f(-1) = -1``, with the maximal second derivative at ``x = 1``). Shape unchanged.

    Args:
        a: the output's scale.
        b: the input's scale.
    """

    def __init__(self, a: float = 1.7159, b: float = 2 / 3) -> None:
        super().__init__()
        self.a, self.b = a, b

    def forward(self, x):  # noqa: D102
        return self.a * torch.tanh(self.b * x)

    def extra_repr(self) -> str:
        return f"a={self.a}, b={self.b}"


@_activation("scaled_tanh", aliases=("lecun_tanh",))
class ScaledTanh(ActivationSpec):
    """``a tanh(b x)``, LeCun et al. (1998)'s ``1.7159 tanh(2x/3)``; the big MLPs of Ciresan et al. (2010) use it."""

    a: number(0, lo_open=True) = 1.7159
    b: number(0, lo_open=True) = 2 / 3

    target_class: ClassVar[type] = ScaledTanhModule


@_activation("softmax")
class Softmax(ActivationSpec):
    """exp(x_i) / sum_j exp(x_j) along ``dim`` (-1: the last). Losses take logits: leave it off an output
    layer trained with ``cross_entropy``."""

    dim: int = -1

    target_class: ClassVar[type] = nn.Softmax


@_activation("log_softmax")
class LogSoftmax(ActivationSpec):
    """log softmax(x) along ``dim``."""

    dim: int = -1

    target_class: ClassVar[type] = nn.LogSoftmax


@_activation("selu")
class SELU(ActivationSpec):
    """Scaled ELU, self-normalizing with ``lecun_normal`` init (Klambauer et al., 2017)."""

    target_class: ClassVar[type] = nn.SELU


@_activation("elu")
class ELU(ActivationSpec):
    """x if x > 0 else alpha (exp(x) - 1) (Clevert et al., 2016)."""

    alpha: number(0, lo_open=True) = 1.0

    target_class: ClassVar[type] = nn.ELU


@_activation("gelu")
class GELU(ActivationSpec):
    """x Phi(x) (Hendrycks & Gimpel, 2016)."""

    target_class: ClassVar[type] = nn.GELU


@_activation("softplus")
class Softplus(ActivationSpec):
    """log(1 + exp(beta x)) / beta."""

    beta: number(0, lo_open=True) = 1.0

    target_class: ClassVar[type] = nn.Softplus


@_activation("identity", aliases=("linear",))
class Identity(ActivationSpec):
    """f(x) = x."""

    target_class: ClassVar[type] = nn.Identity


@_activation("hardtanh")
class Hardtanh(ActivationSpec):
    """Clip x to [min_val, max_val]."""

    min_val: number() = -1.0
    max_val: number() = 1.0

    target_class: ClassVar[type] = nn.Hardtanh


@_activation("softsign")
class Softsign(ActivationSpec):
    """x / (1 + |x|)."""

    target_class: ClassVar[type] = nn.Softsign


class _StepModule(nn.Module):
    """1 where x > 0, else 0."""

    def forward(self, x):  # noqa: D102
        return (x > 0).to(x.dtype)


@_activation("threshold")
class Step(ActivationSpec):
    """The perceptron's step: 1 where x > 0, else 0 (Rosenblatt, 1958). No gradient: for demonstrations."""

    target_class: ClassVar[type] = _StepModule


def activation_module(spec: ActivationSpec | None) -> nn.Module | None:
    """The module of an activation spec, or ``None`` for no activation."""
    return None if spec is None else spec.module()
