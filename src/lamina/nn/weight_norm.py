"""Weight normalisation (Salimans & Kingma, 2016): each output unit's weight vector is learned as a direction and
a length,

    w_i = g_i v_i / ||v_i||,

so that ``||w_i|| = g_i`` exactly and gradient descent on ``(g, v)`` decouples the two (the gradient of ``v`` is
orthogonal to ``w``, which conditions the problem like batch norm does, without batch statistics). A layer option:
``{ type = "dense", units = 100, weight_norm = true }`` (also on ``conv1d``/``conv2d``).

``g`` starts at the initial weights' norms, so turning the option on does not change the initial function.
"""

from __future__ import annotations

import torch
from torch import nn
from torch.nn.utils import parametrize

__all__ = ["WeightNorm", "weight_norm", "apply_weight_norm", "unit_norms"]


def unit_norms(v: torch.Tensor) -> torch.Tensor:
    """``||v_i||`` for each output unit ``i`` (dim 0), shaped to broadcast against ``v``: ``(out, 1, ..., 1)``."""
    return v.flatten(1).norm(dim=1).view(-1, *([1] * (v.dim() - 1)))


def weight_norm(v: torch.Tensor, g: torch.Tensor) -> torch.Tensor:
    """``w = g v / ||v||`` per output unit (``v``: ``(out, ...)``; ``g``: ``(out,)``)."""
    return v * (g.view(-1, *([1] * (v.dim() - 1))) / unit_norms(v))


class WeightNorm(nn.Module):
    """The parametrization ``v -> g v / ||v||`` registered on a layer's ``weight`` (see :func:`apply_weight_norm`).

    Args:
        weight: the layer's current weight, giving ``g``'s initial value ``||w_i||``.

    Attributes:
        g: ``(out,)``, the length of each unit's weight vector.

    References:
        Salimans & Kingma (2016), "Weight Normalization: A Simple Reparameterization to Accelerate Training of Deep
        Neural Networks", NeurIPS.
    """

    def __init__(self, weight: torch.Tensor) -> None:
        super().__init__()
        self.g = nn.Parameter(unit_norms(weight.detach()).flatten().clone())

    def forward(self, v: torch.Tensor) -> torch.Tensor:
        return weight_norm(v, self.g)


def apply_weight_norm(module: nn.Module, name: str = "weight") -> nn.Module:
    """Reparametrize ``module.<name>`` (a dense or convolution weight, output units on dim 0) as ``g v / ||v||``.

    The direction ``v`` is stored as ``module.parametrizations.<name>.original`` and the lengths as
    ``module.parametrizations.<name>[0].g``; ``module.<name>`` is recomputed from them on each access.
    """
    weight = getattr(module, name, None)
    if not isinstance(weight, torch.Tensor) or weight.dim() < 2:
        raise ValueError(
            f"weight norm needs a weight of 2 or more dimensions on {type(module).__name__}.{name}, "
            f"got {None if weight is None else tuple(weight.shape)}"
        )
    parametrize.register_parametrization(module, name, WeightNorm(weight))
    return module
