"""DropPath: drop a whole residual branch for some examples (stochastic depth, Huang et al., 2016).

During training each example keeps the branch with probability ``1 - p``; a kept branch is scaled by
``1 / (1 - p)``, so ``E[drop_path(x)] = x`` and evaluation uses the branch unscaled (Huang et al. scale at test
time instead; the two are equivalent in expectation, and this way the evaluation network is the plain one).
"""

from __future__ import annotations

from typing import Annotated

import torch
from torch import nn

from lamina.config.component import Bounds, spec_base, validated
from lamina.nn.random_drop import RandomDrop
from lamina.nn.spec import LayerSpec, Shape
from lamina.registry import register

__all__ = ["DropPath", "DropPathSpec", "drop_path", "drop_path_mask"]


def drop_path_mask(
    batch: int,
    p: float,
    *,
    dtype: torch.dtype = torch.float32,
    device: torch.device | None = None,
    generator: torch.Generator | None = None,
) -> torch.Tensor:
    """Per-example multipliers ``b_n / (1 - p)`` with ``b_n ~ Bernoulli(1 - p)``; shape ``(batch,)``."""
    if not 0.0 <= p < 1.0:
        raise ValueError(f"`p` must be in [0, 1), got {p!r}")
    keep = torch.rand(batch, generator=generator, device=device) >= p  # P(keep) = 1 - p
    return keep.to(dtype) / (1.0 - p)


def drop_path(
    x: torch.Tensor, p: float, *, training: bool = True, generator: torch.Generator | None = None
) -> torch.Tensor:
    """``x`` with each example zeroed with probability ``p`` and the rest scaled by ``1 / (1 - p)``.

    Args:
        x: a batch ``(N, *)``.
        p: the drop probability.
        training: outside training the input is returned unchanged.
        generator: the source of the masks (``None``: torch's global generator).
    """
    if not training or p == 0.0:
        return x
    mask = drop_path_mask(x.shape[0], p, dtype=x.dtype, device=x.device, generator=generator)
    return x * mask.view(-1, *([1] * (x.dim() - 1)))  # (N, 1, ..., 1) broadcasts over each example


class DropPath(RandomDrop):
    """Stochastic depth for one branch: see :func:`drop_path`.

    Args:
        p: probability of dropping the branch for an example.

    Shape: unchanged.

    Attributes:
        generator: the masks' source (``None``: the global generator, which the trainer seeds).

    References:
        Huang, Sun, Liu, Sedra & Weinberger (2016), "Deep Networks with Stochastic Depth", ECCV.
    """

    function = staticmethod(drop_path)

    @validated
    def __init__(self, p: Annotated[float, Bounds(ge=0, lt=1)] = 0.1) -> None:
        super().__init__(p)


@register("layer", "drop_path", aliases=("stochastic_depth",))
class DropPathSpec(spec_base(DropPath, LayerSpec)):  # type: ignore[misc]  # a base made by spec_base
    """Drop the whole example with probability ``p`` (scaling the kept ones by 1/(1-p)); put it last in a residual
    branch, or use the ``drop_path`` option of ``residual`` (Huang et al., 2016). Shape unchanged. ``p``:
    :class:`DropPath`'s, with its default and bounds."""

    def output_shape(self, input_shape: Shape) -> Shape:
        """DropPath keeps the shape."""
        return input_shape

    def build(self, input_shape: Shape) -> nn.Module:
        """A :class:`DropPath` with drop probability ``p``."""
        return DropPath(**self.options())
