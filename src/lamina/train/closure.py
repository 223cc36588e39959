"""The closure handed to optimizers that re-evaluate the loss (L-BFGS, Hessian-free, EKF).

Calling it is what ``torch.optim.LBFGS`` expects: zero the gradients, compute the loss on the batch, back-propagate
and return the loss. Second-order and Kalman-filter optimizers need more than the loss: the network's outputs
(``forward()``), the loss as a function of those outputs (``loss_of``) and the targets, which it also carries.
Those evaluate through :meth:`Closure.loss` (no back-propagation), may take part of the batch (:meth:`Closure.subset`,
Hessian-free's curvature mini-batch) and report the batch's loss and outputs with :meth:`Closure.record`.
"""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractContextManager, nullcontext
from typing import Any

import torch
from torch import nn

from lamina.nn.targets_context import batch_targets

__all__ = ["Closure"]


class Closure:
    """Re-evaluate one batch.

    Attributes:
        model: the module being trained.
        inputs: the batch inputs (a tensor, or a tuple for several inputs).
        targets: the batch targets.
        loss_fn: ``loss_fn(outputs, targets) -> scalar`` (``None`` for models with their own ``training_loss``).
        last_loss, last_output: from the latest call (detached), for logging and metrics.
        grad_clip: if set, calling the closure clips the gradients' global L2 norm to it after back-propagating
            (what L-BFGS then reads; the trainer's ``train.grad_clip``).
    """

    def __init__(
        self,
        model: nn.Module,
        inputs: Any,
        targets: Any,
        loss_fn: Callable | None,
        *,
        penalty: Callable[[], torch.Tensor] | None = None,
        autocast: Callable[[], AbstractContextManager] = nullcontext,
        zero_grad: Callable[[], None] | None = None,
        grad_clip: float | None = None,
    ) -> None:
        self.model, self.inputs, self.targets, self.loss_fn = model, inputs, targets, loss_fn
        self.penalty, self.autocast = penalty, autocast
        self.grad_clip = grad_clip
        self._zero_grad = zero_grad or (lambda: model.zero_grad(set_to_none=True))
        self.last_loss: torch.Tensor | None = None
        self.last_output: torch.Tensor | None = None
        self.evaluations = 0

    def forward(self) -> Any:
        """The model's outputs on the batch, with the autograd graph."""
        with self.autocast(), batch_targets(self.targets):
            return self.model(*self.inputs) if isinstance(self.inputs, tuple) else self.model(self.inputs)

    def loss_of(self, outputs: Any) -> torch.Tensor:
        """The training loss for given ``outputs`` (the penalty included)."""
        with self.autocast():
            loss = self.loss_fn(outputs, self.targets)
            return loss + self.penalty() if self.penalty is not None else loss

    def loss(self) -> tuple[torch.Tensor, Any]:
        """``(loss, outputs)`` on the batch, with the graph, without back-propagating."""
        self.evaluations += 1
        if self.loss_fn is None:  # a model with its own objective (an RBM's CD surrogate, ...)
            with self.autocast():
                loss = self.model.training_loss((self.inputs, self.targets))
            return (loss + self.penalty() if self.penalty is not None else loss), None
        outputs = self.forward()
        return self.loss_of(outputs), outputs

    def record(self, loss: torch.Tensor, outputs: Any) -> None:
        """Keep ``loss`` and ``outputs`` (detached) as the batch's figures for logging and metrics. Calling the
        closure records its own; optimizers that evaluate through :meth:`loss` record the batch once per step."""
        self.last_loss = loss.detach()
        self.last_output = outputs.detach() if isinstance(outputs, torch.Tensor) else outputs

    def subset(self, index: slice | torch.Tensor) -> Closure:
        """A closure on part of the batch (``index`` into the batch dimension), with the same model, loss, penalty
        and precision."""

        def _take(value: Any) -> Any:
            if isinstance(value, tuple):
                return tuple(_take(v) for v in value)
            return value[index] if isinstance(value, torch.Tensor) else value

        return Closure(
            self.model,
            _take(self.inputs),
            _take(self.targets),
            self.loss_fn,
            penalty=self.penalty,
            autocast=self.autocast,
            zero_grad=self._zero_grad,
            grad_clip=self.grad_clip,
        )

    def __call__(self) -> torch.Tensor:
        self._zero_grad()
        loss, outputs = self.loss()
        loss.backward()
        if self.grad_clip:
            nn.utils.clip_grad_norm_(self.model.parameters(), self.grad_clip)
        self.record(loss, outputs)
        return self.last_loss
