"""Weight elimination (Weigend, Rumelhart & Huberman, 1990): a complexity penalty that drives small weights to zero
and leaves large ones almost free, the regulariser of Weigend et al.'s sunspot network.

``C(w) = sum_i (w_i / w0)^2 / (1 + (w_i / w0)^2)``, with gradient ``dC/dw_i = (2 w_i / w0^2) / (1 + (w_i / w0)^2)^2``:
quadratic (weight decay) for ``|w| << w0``, saturating at 1 per weight for ``|w| >> w0``, so it counts the weights
that matter rather than their size.

From an experiment file: ``[train] callbacks = [{ type = "weight_elimination", strength = 1e-4 }]``.
"""
from __future__ import annotations

from collections.abc import Callable
from typing import Any

import torch
from torch import nn

from lamina.config.fields import number
from lamina.registry import register, resolve
from lamina.train.callbacks.base import Callback, CallbackSpec

__all__ = ["weight_elimination", "WeightEliminationLoss", "WeightElimination", "WeightEliminationSpec"]


def weight_elimination(weights: nn.Module | list[torch.Tensor], scale: float = 1.0) -> torch.Tensor:
    """``sum (w / w0)^2 / (1 + (w / w0)^2)`` over the weight matrices and kernels (tensors of 2 or more dimensions;
    biases are left out, as lamina's ``l1``/``l2`` leave them).

    Args:
        weights: a module (its parameters of dim >= 2 are used) or a list of tensors.
        scale: ``w0``, the weight size above which a weight counts as fully present.

    Returns:
        A scalar tensor (with the graph, for back-propagation).

    References:
        Weigend, Rumelhart & Huberman (1990), Generalization by weight-elimination with application to
        forecasting. NIPS 3.
    """
    if not scale > 0:
        raise ValueError(f"`scale` must be > 0, got {scale!r}")
    tensors = [p for p in weights.parameters() if p.dim() > 1] if isinstance(weights, nn.Module) else list(weights)
    if not tensors:
        raise ValueError("weight elimination needs at least one weight matrix; the module has none")
    total = tensors[0].new_zeros(())
    for w in tensors:
        r = (w / scale).pow(2)
        total = total + (r / (1 + r)).sum()
    return total


class WeightEliminationLoss(nn.Module):
    """A loss plus weight elimination on a model's weights: ``base(output, target) + strength * C(w)``.

    Give it to the trainer as the loss (``Trainer(model, loss=WeightEliminationLoss(model, 1e-4))``); the loss the
    trainer logs then includes the penalty.

    Args:
        model: whose weight matrices are penalised (kept as a list of tensors, not as a submodule).
        strength: ``lambda``.
        scale: ``w0``.
        base: the data term: a registered loss name or table (``"mse"``), or a callable ``(output, target)``.
    """

    def __init__(self, model: nn.Module, strength: float, *, scale: float = 1.0,
                 base: str | dict | Callable = "mse") -> None:
        super().__init__()
        if not strength >= 0:
            raise ValueError(f"`strength` must be >= 0, got {strength!r}")
        self.strength, self.scale = float(strength), float(scale)
        self.base = base if callable(base) else resolve("loss", base, path="base").build()
        self._weights = [p for p in model.parameters() if p.dim() > 1]
        weight_elimination(self._weights, self.scale)  # validates scale and that there are weights

    def forward(self, output: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        return self.base(output, target) + self.strength * weight_elimination(self._weights, self.scale)

    def extra_repr(self) -> str:
        return f"strength={self.strength}, scale={self.scale}"


class WeightElimination(Callback):
    """Add weight elimination to the trainer's loss for the whole fit (the logged and evaluated losses include it).

    Args:
        strength: ``lambda``.
        scale: ``w0``.
    """

    def __init__(self, strength: float, scale: float = 1.0) -> None:
        self.strength, self.scale = strength, scale

    def on_train_begin(self, trainer: Any) -> None:
        """Wrap the trainer's loss in a :class:`WeightEliminationLoss` (once: a second ``fit()`` keeps it)."""
        if isinstance(trainer.loss_fn, WeightEliminationLoss):  # a second fit() of the same trainer
            return
        if trainer.loss_fn is None:
            raise ValueError("weight_elimination adds to the loss, but this model trains on its own training_loss()")
        trainer.loss_fn = WeightEliminationLoss(trainer.model, self.strength, scale=self.scale, base=trainer.loss_fn)


@register("callback", "weight_elimination")
class WeightEliminationSpec(CallbackSpec):
    """Weigend's weight elimination as a training callback.

    Args:
        strength: ``lambda`` (Weigend et al. adapted it during training; here it is fixed).
        scale: ``w0``, in the units of the weights (the inputs' scaling matters).
    """

    strength: number(0) = 1e-4
    scale: number(0, lo_open=True) = 1.0

    def build(self) -> Callback:
        """The :class:`WeightElimination` callback these options describe."""
        return WeightElimination(self.strength, self.scale)
