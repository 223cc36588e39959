"""Weight elimination (Weigend, Rumelhart & Huberman, 1990): a complexity penalty that drives small weights to zero
and leaves large ones almost free, the regulariser of Weigend et al.'s sunspot network.

``C(w) = sum_i (w_i / w0)^2 / (1 + (w_i / w0)^2)``, with gradient ``dC/dw_i = (2 w_i / w0^2) / (1 + (w_i / w0)^2)^2``:
quadratic (weight decay) for ``|w| << w0``, saturating at 1 per weight for ``|w| >> w0``, so it counts the weights
that matter rather than their size. The strength ``lambda`` is fixed, or adapted after every epoch by Weigend et
al.'s rule (:func:`adapt_strength`) when a desired error is given.

From an experiment file: ``[train] callbacks = [{ type = "weight_elimination", strength = 1e-4 }]``, or adaptive:
``{ type = "weight_elimination", strength = 0, desired_error = 0.004, strength_step = 1e-6 }``.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Annotated, Any

import torch
from torch import nn

from lamina.config.component import Bounds, spec_base, validated
from lamina.registry import register, resolve
from lamina.train.callbacks.base import Callback, CallbackSpec

__all__ = [
    "weight_elimination",
    "adapt_strength",
    "WeightEliminationLoss",
    "WeightElimination",
    "WeightEliminationSpec",
]


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


def adapt_strength(
    strength: float, error: float, previous: float, average: float, *, desired: float, step: float, cut: float = 0.9
) -> float:
    """One epoch of Weigend et al.'s rule for ``lambda``, given the training error ``E_n`` of this epoch, ``E_{n-1}``
    of the last one and the running average ``A_n = gamma A_{n-1} + (1 - gamma) E_n`` (``E_n`` included):

    - ``E_n < D`` or ``E_n < E_{n-1}`` (good enough, or still improving): ``lambda + step``;
    - else ``E_n < A_n`` (worse than last epoch, better than the average): ``lambda - step`` (not below 0);
    - else (worse than both, and above ``D``): ``cut * lambda``, the paper's cut by 10%.

    Args:
        strength: ``lambda_{n-1}``.
        error, previous, average: ``E_n``, ``E_{n-1}`` (``inf`` at the first epoch), ``A_n``.
        desired: ``D``, the desired training error (the paper suggests the noise level of the data).
        step: ``Delta lambda``.
        cut: the factor of the third case.

    Returns:
        ``lambda_n`` (>= 0).

    References:
        Weigend, Rumelhart & Huberman (1990), Generalization by weight-elimination with application to
        forecasting. NIPS 3, section 2 (the rule as described there and in Weigend, Huberman & Rumelhart (1990),
        Predicting the future: a connectionist approach, Int. J. Neural Systems 1).
    """
    if error < desired or error < previous:
        return strength + step
    if error < average:
        return max(strength - step, 0.0)
    return cut * strength


class WeightEliminationLoss(nn.Module):
    """A loss plus weight elimination on a model's weights: ``base(output, target) + strength * C(w)``.

    Give it to the trainer as the loss (``Trainer(model, loss=WeightEliminationLoss(model, 1e-4))``); the loss the
    trainer logs then includes the penalty. Calls with gradients on (training steps, not ``evaluate``) add their
    data term to a running mean, read and reset by :meth:`pop_data_error`: the training error ``E_n`` of the
    adaptive rule, without the penalty.

    Args:
        model: whose weight matrices are penalised (kept as a list of tensors, not as a submodule).
        strength: ``lambda`` (an attribute: :class:`WeightElimination` changes it during training).
        scale: ``w0``.
        base: the data term: a registered loss name or table (``"mse"``), or a callable ``(output, target)``.
    """

    def __init__(
        self, model: nn.Module, strength: float, *, scale: float = 1.0, base: str | dict | Callable = "mse"
    ) -> None:
        super().__init__()
        if not strength >= 0:
            raise ValueError(f"`strength` must be >= 0, got {strength!r}")
        self.strength, self.scale = float(strength), float(scale)
        self.base = base if callable(base) else resolve("loss", base, path="base").build()
        self._weights = [p for p in model.parameters() if p.dim() > 1]
        weight_elimination(self._weights, self.scale)  # validates scale and that there are weights
        self._data_total: torch.Tensor | float = 0.0
        self._data_count = 0

    def forward(self, output: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        data = self.base(output, target)
        if torch.is_grad_enabled():  # a training step; evaluate() runs under no_grad
            n = len(output)
            self._data_total = self._data_total + data.detach() * n  # a tensor sum: no host sync per step
            self._data_count += n
        return data + self.strength * weight_elimination(self._weights, self.scale)

    def pop_data_error(self) -> float:
        """The mean data term (penalty left out) of the training calls since the last call; NaN if none."""
        total, count = self._data_total, self._data_count
        self._data_total, self._data_count = 0.0, 0
        return float(total) / count if count else math.nan

    def extra_repr(self) -> str:
        return f"strength={self.strength}, scale={self.scale}"


class WeightElimination(Callback):
    """Add weight elimination to the trainer's loss for the whole fit (the logged and evaluated losses include it);
    with ``desired_error``, adapt ``lambda`` after every epoch by :func:`adapt_strength`.

    Args:
        strength: ``lambda``, fixed, or its start value when adaptive (Weigend et al. started from 0; default 1e-4).
        scale: ``w0``.
        desired_error: ``D`` in the units of the data term (mean squared error for ``"mse"``); ``None`` keeps
            ``lambda`` fixed.
        strength_step: ``Delta lambda`` per epoch.
        average_decay: ``gamma`` of the running average of the training error.
        cut: the factor ``lambda`` is multiplied by when the error rises above its average and the last epoch's.

    Attributes:
        strengths: ``lambda`` after each epoch of this fit (adaptive only), for plots and checks.
    """

    @validated
    def __init__(
        self,
        strength: Annotated[float, Bounds(ge=0)] = 1e-4,
        scale: Annotated[float, Bounds(gt=0)] = 1.0,
        *,
        desired_error: Annotated[float | None, Bounds(gt=0)] = None,
        # the paper's Delta lambda (its error is a sum, not a mean: rescale)
        strength_step: Annotated[float, Bounds(ge=0)] = 1e-6,
        average_decay: Annotated[float, Bounds(ge=0, lt=1)] = 0.9,
        cut: Annotated[float, Bounds(gt=0, le=1)] = 0.9,
    ) -> None:  # "cut lambda by 10%"
        self.strength, self.scale, self.desired_error = strength, scale, desired_error
        self.strength_step, self.average_decay, self.cut = strength_step, average_decay, cut
        self.strengths: list[float] = []
        self._previous, self._average = math.inf, math.nan
        self._loss: WeightEliminationLoss | None = None

    def on_train_begin(self, trainer: Any) -> None:
        """Wrap the trainer's loss in a :class:`WeightEliminationLoss` (once: a second ``fit()`` keeps it, and the
        adaptive rule's memory with it)."""
        if isinstance(trainer.loss_fn, WeightEliminationLoss):  # a second fit() of the same trainer
            self._loss = trainer.loss_fn
            return
        if trainer.loss_fn is None:
            raise ValueError("weight_elimination adds to the loss, but this model trains on its own training_loss()")
        self._loss = WeightEliminationLoss(trainer.model, self.strength, scale=self.scale, base=trainer.loss_fn)
        trainer.loss_fn = self._loss
        self.strengths, self._previous, self._average = [], math.inf, math.nan

    def on_epoch_begin(self, trainer: Any, epoch: int) -> None:
        """Start the epoch's training-error mean afresh."""
        self._loss.pop_data_error()

    def on_epoch_end(self, trainer: Any, epoch: int, logs: dict[str, float]) -> None:
        """Adaptive only: ``lambda_n`` from this epoch's training error (the data term, penalty left out)."""
        error = self._loss.pop_data_error()
        if self.desired_error is None or math.isnan(error):
            return
        gamma = self.average_decay
        self._average = error if math.isnan(self._average) else gamma * self._average + (1 - gamma) * error
        self._loss.strength = adapt_strength(
            self._loss.strength,
            error,
            self._previous,
            self._average,
            desired=self.desired_error,
            step=self.strength_step,
            cut=self.cut,
        )
        self._previous = error
        self.strengths.append(self._loss.strength)

    def state_dict(self) -> dict[str, Any]:
        """The adaptive rule's memory: ``lambda_n``, ``E_n`` and ``A_n``."""
        strength = self._loss.strength if self._loss is not None else self.strength
        return {"strength": strength, "previous": self._previous, "average": self._average}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        """Restore :meth:`state_dict` (called after :meth:`on_train_begin` when a run resumes)."""
        self._previous, self._average = state["previous"], state["average"]
        if self._loss is not None:
            self._loss.strength = state["strength"]


@register("callback", "weight_elimination")
class WeightEliminationSpec(spec_base(WeightElimination, CallbackSpec)):
    """Weigend's weight elimination as a training callback: :class:`WeightElimination`'s options, with its defaults
    and bounds.

    Args:
        strength: ``lambda``, or its start value when ``desired_error`` is set.
        scale: ``w0``, in the units of the weights (the inputs' scaling matters).
        desired_error: ``D`` of Weigend et al.'s adaptive ``lambda`` (the data term's units); unset: fixed lambda.
        strength_step: ``Delta lambda`` per epoch (adaptive only).
        average_decay: ``gamma`` of the running average of the training error (adaptive only).
        cut: the factor of the "cut lambda" case (adaptive only; the paper's 10% cut).
    """

    def build(self) -> Callback:
        """The :class:`WeightElimination` callback these options describe."""
        return WeightElimination(**self.options())
