"""Weight initializers, by name: ``init = "he"`` on a dense or convolution layer.

Each scales the spread of the weights by the layer's fan-in (and fan-out), so that activations and
gradients keep their variance through depth:

======================  ==========================================  ============================
name                    distribution                                reference
======================  ==========================================  ============================
``glorot_uniform``      U(-a, a), a = sqrt(6 / (fan_in + fan_out))  Glorot & Bengio, 2010
``glorot_normal``       N(0, 2 / (fan_in + fan_out))                 Glorot & Bengio, 2010
``he_normal`` (``he``)  N(0, 2 / fan_in)                             He et al., 2015
``he_uniform``          U(-a, a), a = sqrt(6 / fan_in)               He et al., 2015
``lecun_normal``        N(0, 1 / fan_in)                             LeCun et al., 1998
``lecun_uniform``       U(-a, a), a = sqrt(3 / fan_in)               LeCun et al., 1998
``orthogonal``          a random orthogonal matrix times ``gain``    Saxe et al., 2014
``normal``, ``uniform`` N(mean, std^2), U(low, high)
``zeros``, ``constant`` every weight equal to 0 or ``value``
======================  ==========================================  ============================
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any, ClassVar

import torch
from torch import nn

from lamina.config.fields import number
from lamina.config.spec import Spec
from lamina.nn.spec import fan_in_out
from lamina.registry import register

__all__ = ["InitSpec", "VarianceScaling", "initialize"]


class InitSpec(Spec):
    """An initializer: ``spec.build()`` returns a function filling a tensor in place."""

    def build(self) -> Callable[[torch.Tensor], torch.Tensor]:
        """The in-place initializer function."""
        return self.fill

    def fill(self, tensor: torch.Tensor) -> torch.Tensor:
        """Fill ``tensor`` in place and return it."""
        raise NotImplementedError


class VarianceScaling(InitSpec):
    """Zero-mean weights with variance ``scale / fan``, normal or uniform (a uniform U(-a, a) has variance
    a^2 / 3); ``fan`` is the fan-in, or the mean of fan-in and fan-out ("fan_avg")."""

    scale: ClassVar[float] = 1.0
    mode: ClassVar[str] = "fan_in"
    uniform: ClassVar[bool] = False

    def fill(self, tensor: torch.Tensor) -> torch.Tensor:
        """Draw zero-mean weights with variance ``scale / fan``."""
        fan_in, fan_out = fan_in_out(tensor)
        fan = fan_in if self.mode == "fan_in" else (fan_in + fan_out) / 2
        std = math.sqrt(self.scale / fan)
        with torch.no_grad():
            if self.uniform:
                return tensor.uniform_(-math.sqrt(3.0) * std, math.sqrt(3.0) * std)
            return tensor.normal_(0.0, std)


@register("initializer", "glorot_uniform", aliases=("glorot", "xavier_uniform"))
class GlorotUniform(VarianceScaling):
    """Glorot & Bengio (2010): U(-a, a) with a = sqrt(6 / (fan_in + fan_out))."""

    scale, mode, uniform = 1.0, "fan_avg", True


@register("initializer", "glorot_normal", aliases=("xavier_normal",))
class GlorotNormal(VarianceScaling):
    """Glorot & Bengio (2010): N(0, 2 / (fan_in + fan_out))."""

    scale, mode, uniform = 1.0, "fan_avg", False


@register("initializer", "he_normal", aliases=("he", "kaiming_normal"))
class HeNormal(VarianceScaling):
    """He et al. (2015), for ReLU layers: N(0, 2 / fan_in)."""

    scale, mode, uniform = 2.0, "fan_in", False


@register("initializer", "he_uniform", aliases=("kaiming_uniform",))
class HeUniform(VarianceScaling):
    """He et al. (2015), for ReLU layers: U(-a, a) with a = sqrt(6 / fan_in)."""

    scale, mode, uniform = 2.0, "fan_in", True


@register("initializer", "lecun_normal", aliases=("lecun",))
class LecunNormal(VarianceScaling):
    """LeCun et al. (1998), "Efficient BackProp"; the init SELU needs: N(0, 1 / fan_in)."""

    scale, mode, uniform = 1.0, "fan_in", False


@register("initializer", "lecun_uniform")
class LecunUniform(VarianceScaling):
    """LeCun et al. (1998): U(-a, a) with a = sqrt(3 / fan_in)."""

    scale, mode, uniform = 1.0, "fan_in", True


@register("initializer", "orthogonal")
class Orthogonal(InitSpec):
    """A random orthogonal matrix (rows or columns orthonormal) times ``gain``; trailing dims flattened.

    Keeps every singular value of a linear layer's Jacobian at ``gain`` (Saxe et al., 2014,
    "Exact solutions to the nonlinear dynamics of learning in deep linear neural networks").
    """

    target_class: ClassVar[Callable[..., Any]] = nn.init.orthogonal_

    gain: number(0, lo_open=True) = 1.0

    def fill(self, tensor: torch.Tensor) -> torch.Tensor:
        """``nn.init.orthogonal_`` with ``gain`` (its keyword, with its default)."""
        return nn.init.orthogonal_(tensor, **self.options())


@register("initializer", "normal")
class Normal(InitSpec):
    """N(mean, std^2) for every weight."""

    target_class: ClassVar[Callable[..., Any]] = nn.init.normal_  # whose std defaults to 1 (see the consistency test)

    mean: number() = 0.0
    std: number(0, lo_open=True) = 0.01

    def fill(self, tensor: torch.Tensor) -> torch.Tensor:
        """Draw N(mean, std^2)."""
        return nn.init.normal_(tensor, self.mean, self.std)


@register("initializer", "uniform")
class Uniform(InitSpec):
    """U(low, high) for every weight."""

    target_class: ClassVar[Callable[..., Any]] = nn.init.uniform_  # which takes a and b (see the consistency test)

    low: number() = -0.05
    high: number() = 0.05

    def fill(self, tensor: torch.Tensor) -> torch.Tensor:
        """Draw U(low, high)."""
        return nn.init.uniform_(tensor, self.low, self.high)


@register("initializer", "zeros")
class Zeros(InitSpec):
    """Every weight 0 (the usual bias init). No options: ``nn.init.zeros_``."""

    target_class: ClassVar[Callable[..., Any]] = nn.init.zeros_

    def fill(self, tensor: torch.Tensor) -> torch.Tensor:
        """Set every weight to 0."""
        return nn.init.zeros_(tensor, **self.options())


@register("initializer", "constant")
class Constant(InitSpec):
    """Every weight equal to ``value``."""

    target_class: ClassVar[Callable[..., Any]] = nn.init.constant_  # which takes val (see the consistency test)

    value: number() = 0.0

    def fill(self, tensor: torch.Tensor) -> torch.Tensor:
        """Set every weight to ``value``."""
        return nn.init.constant_(tensor, self.value)


def initialize(module: nn.Module, weight: InitSpec | None, bias: InitSpec | None = None) -> nn.Module:
    """Apply ``weight``/``bias`` initializers to ``module.weight``/``module.bias``; ``None`` keeps torch's."""
    if weight is not None:
        weight.fill(module.weight)
    if bias is not None and getattr(module, "bias", None) is not None:
        bias.fill(module.bias)
    return module
