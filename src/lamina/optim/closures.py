"""What the closure-driven optimizers (Hessian-free, EKF, evolution strategies) need from a closure, and how they
get it.

Two forms are accepted everywhere:

* a :class:`lamina.train.closure.Closure` (what the :class:`~lamina.train.Trainer` passes, and what plain PyTorch
  code can build with ``Closure(model, x, y, loss_fn)``): the optimizer evaluates it through ``closure.loss()``
  (loss and outputs, with the graph, not back-propagated), may take part of the batch with ``closure.subset``, and
  reports the batch's loss and outputs once per step with ``closure.record``;
* a plain function of no arguments, whose return value each optimizer documents: ``(loss, outputs)`` for
  Hessian-free, the residuals ``targets - outputs`` for EKF, the loss for evolution strategies.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import torch

from lamina.losses import matched_target

__all__ = ["is_batch_closure", "require_closure", "loss_and_outputs", "residuals_of", "loss_value", "record"]


def is_batch_closure(closure: Any) -> bool:
    """Whether ``closure`` is a :class:`~lamina.train.closure.Closure` (or anything with its interface)."""
    return all(callable(getattr(closure, name, None)) for name in ("loss", "record", "subset"))


def require_closure(optimizer: str, closure: Callable | None, form: str) -> None:
    """Refuse a missing closure, showing the form ``optimizer`` needs."""
    if closure is None:
        raise TypeError(
            f"{optimizer}.step() needs a closure that re-evaluates the batch; it is called as "
            f"optimizer.step(closure) with\n{form}\n(lamina's Trainer passes one itself; in plain PyTorch "
            "lamina.train.Closure(model, x, y, loss_fn) also works)"
        )
    if not callable(closure):
        raise TypeError(f"{optimizer}.step(closure): the closure must be callable, got {type(closure).__name__}")


def loss_and_outputs(optimizer: str, closure: Callable, form: str) -> tuple[torch.Tensor, torch.Tensor]:
    """``(loss, outputs)`` with their graph: through ``closure.loss()`` or the plain closure's return value."""
    if is_batch_closure(closure):
        loss, outputs = closure.loss()
        if outputs is None:
            raise ValueError(
                f"{optimizer} needs the network's outputs, but this model defines its own training_loss "
                "and gives none; train it on (input, target) pairs with a loss instead"
            )
    else:
        result = closure()
        if not (isinstance(result, tuple) and len(result) == 2):
            raise TypeError(
                f"{optimizer}: the closure must return (loss, outputs), got {type(result).__name__}; "
                f"the form is\n{form}"
            )
        loss, outputs = result
    if not isinstance(outputs, torch.Tensor) or not isinstance(loss, torch.Tensor) or loss.numel() != 1:
        raise TypeError(
            f"{optimizer}: the closure must return a scalar loss tensor and the outputs tensor, got "
            f"({type(loss).__name__}, {type(outputs).__name__})"
        )
    return loss.reshape(()), outputs


def residuals_of(optimizer: str, closure: Callable, form: str) -> tuple[torch.Tensor, torch.Tensor]:
    """``(residuals, loss)``: ``targets - outputs`` with the graph, and the loss to report for the batch."""
    if is_batch_closure(closure):
        loss, outputs = closure.loss()
        targets = closure.targets
        if outputs is None or not isinstance(targets, torch.Tensor):
            raise ValueError(
                f"{optimizer} needs the network's outputs and real-valued targets (residuals = targets "
                "- outputs); this batch has none"
            )
        if not targets.is_floating_point():
            raise ValueError(
                f"{optimizer} fits real-valued targets of the outputs' shape {tuple(outputs.shape)}; got "
                f"integer class labels of shape {tuple(targets.shape)}: one-hot encode them and use "
                "sigmoid outputs with the mse loss"
            )
        residuals = matched_target(outputs, targets, optimizer).to(outputs.dtype) - outputs
        closure.record(loss, outputs)
        return residuals, loss.detach()
    residuals = closure()
    if not isinstance(residuals, torch.Tensor):
        raise TypeError(
            f"{optimizer}: the closure must return the residuals tensor (targets - outputs), got "
            f"{type(residuals).__name__}; the form is\n{form}"
        )
    if not residuals.requires_grad:
        raise ValueError(
            f"{optimizer}: the residuals carry no autograd graph to the weights; compute them inside "
            "the closure from the model's outputs (not under torch.no_grad())"
        )
    return residuals, residuals.detach().pow(2).mean()


def loss_value(optimizer: str, closure: Callable, form: str) -> tuple[torch.Tensor, Any]:
    """``(loss, outputs)`` without a graph (``outputs`` is ``None`` for a plain closure)."""
    with torch.no_grad():
        if is_batch_closure(closure):
            return closure.loss()
        try:
            loss = closure()
        except RuntimeError as err:
            if "does not require grad" in str(err):
                raise TypeError(
                    f"{optimizer} evaluates the closure under torch.no_grad(): return the loss without "
                    f"calling backward(); the form is\n{form}"
                ) from None
            raise
    if isinstance(loss, (int, float)):
        loss = torch.tensor(float(loss))
    if not isinstance(loss, torch.Tensor) or loss.numel() != 1:
        raise TypeError(
            f"{optimizer}: the closure must return the scalar loss, got {type(loss).__name__}; the form is\n{form}"
        )
    return loss.reshape(()), None


def record(closure: Callable, loss: torch.Tensor, outputs: Any) -> None:
    """Report the batch's loss and outputs to a :class:`~lamina.train.closure.Closure` (a plain closure keeps none)."""
    if is_batch_closure(closure):
        closure.record(loss, outputs)
