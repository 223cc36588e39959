"""Data transforms: augmentations applied to each training batch on the training device, declared in the
experiment file's ``[data]`` table::

    [data]
    name = "mnist"
    augment = [{ type = "elastic", alpha = 34.0, sigma = 4.0 }]

A transform is registered under the ``transform`` kind; its spec builds a module that maps a batch of inputs to a
batch of the same shape. The dataset's training split carries the built transforms (:attr:`ArrayDataset.transform`)
and the trainer's loader applies them to every training batch (``make_loader(..., augment=True)``); evaluation,
validation and test batches are never transformed. A transform draws its randomness from torch's global generator,
which the trainer seeds and checkpoints, so a resumed run continues with the same distortions.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from torch import nn

from lamina.config.spec import Spec

__all__ = ["Compose", "TransformSpec"]


class TransformSpec(Spec):
    """A registered data transform: its options, and ``build()`` returning the module applied to training batches."""

    def build(self) -> nn.Module:
        """The transform as a module: ``module(x) -> x'`` with ``x'`` the shape of ``x``."""
        raise NotImplementedError(f"{type(self).__name__} must define build()")


class Compose(nn.Module):
    """Apply ``transforms`` in order to a batch of inputs."""

    def __init__(self, transforms: Sequence[Callable[[Any], Any]]) -> None:
        super().__init__()
        self.transforms = list(transforms)

    def forward(self, x: Any) -> Any:
        """``x`` through each transform in turn."""
        for transform in self.transforms:
            x = transform(x)
        return x
