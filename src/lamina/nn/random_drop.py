"""The shared shape of the layers that drop something at random during training (alpha dropout, drop-path): a drop
probability ``p``, an optional ``torch.Generator``, and a functional form applied only in training mode."""

from __future__ import annotations

from collections.abc import Callable
from typing import ClassVar

import torch
from torch import nn

__all__ = ["RandomDrop"]


class RandomDrop(nn.Module):
    """Base class: ``forward(x) = function(x, p, training=self.training, generator=self.generator)``.

    Args:
        p: drop probability, in ``[0, 1)``.

    Attributes:
        generator: the masks' source (``None``: the global generator, which the trainer seeds).
    """

    function: ClassVar[Callable[..., torch.Tensor]]

    def __init__(self, p: float) -> None:
        super().__init__()
        if not 0.0 <= p < 1.0:
            raise ValueError(f"`p` must be in [0, 1), got {p!r}")
        self.p = p
        self.generator: torch.Generator | None = None

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return type(self).function(x, self.p, training=self.training, generator=self.generator)

    def extra_repr(self) -> str:
        return f"p={self.p}"
