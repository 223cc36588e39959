"""The trainer's three kinds of optimizer step, one function each (issue 25, item 5).

* :func:`plain_step`: forward, backward, the weight penalty's gradient, clipping, ``optimizer.step()``.
* :func:`scaled_step`: the same under an fp16 ``GradScaler`` (the gradients are unscaled before clipping).
* :func:`closure_step`: ``optimizer.step(closure)`` for methods that re-evaluate the loss (L-BFGS, Hessian-free,
  EKF, evolution strategies). L-BFGS reads its gradients from the closure, so clipping is applied there; the others
  do not take a step along the gradient and cannot clip, which :func:`check_grad_clip` refuses at construction.

:func:`choose_step` picks one for a trainer; each takes ``(trainer, x, y)`` and returns the batch's loss (detached,
the penalty included) and the model's outputs (``None`` for a model with its own objective). A non-finite loss is
reported through ``trainer._check_finite``: on the CPU before any weight changes (after, for closure methods, whose
loss is only known once they have stepped); on an accelerator within ``FINITE_CHECK_EVERY`` steps. After every
optimizer step the weights with a max-norm constraint (:mod:`lamina.nn.max_norm`) are projected back onto their
balls.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import torch
from torch import nn

from lamina.errors import ConfigError
from lamina.nn.max_norm import enforce_max_norm
from lamina.train.closure import Closure

__all__ = ["check_grad_clip", "choose_step", "closure_step", "plain_step", "scaled_step"]

Step = Callable[[Any, Any, Any], "tuple[torch.Tensor, Any]"]


def _to_backward(trainer: Any, loss: torch.Tensor, x: Any, y: Any) -> torch.Tensor:
    """The loss to back-propagate: DDP averages gradients over processes, so each shard is weighted by its size."""
    return loss * trainer._shard_weight(x, y) if trainer.world_size > 1 else loss


def _constrain(trainer: Any) -> None:
    """Project the max-norm-constrained weights (``trainer.constrained``, found when ``fit`` starts)."""
    if trainer.constrained:
        enforce_max_norm(trainer.constrained)


def plain_step(trainer: Any, x: Any, y: Any) -> tuple[torch.Tensor, Any]:
    """One step without a gradient scaler (fp32, bf16)."""
    trainer.optimizer.zero_grad(set_to_none=True)
    by_hand = bool(trainer.l1 or trainer.l2)  # the penalty's gradient is added after backward, without a graph
    with trainer._autocast():
        loss, out = trainer._forward_loss(x, y, penalty=False)
    with torch.no_grad():
        reported = loss.detach() + trainer._penalty() if by_hand else loss.detach()
    trainer._check_finite(reported)
    _to_backward(trainer, loss, x, y).backward()
    if by_hand:
        trainer._add_penalty_gradient()
    if trainer.grad_clip:
        nn.utils.clip_grad_norm_(trainer.model.parameters(), trainer.grad_clip)
    trainer.optimizer.step()
    _constrain(trainer)
    return reported, out


def scaled_step(trainer: Any, x: Any, y: Any) -> tuple[torch.Tensor, Any]:
    """One fp16 step through ``trainer.scaler``: gradients are unscaled before clipping, so the norm is the true
    one, and the scaler skips steps whose gradients overflowed."""
    trainer.optimizer.zero_grad(set_to_none=True)
    with trainer._autocast():
        loss, out = trainer._forward_loss(x, y, penalty=True)
    trainer._check_finite(loss)
    trainer.scaler.scale(_to_backward(trainer, loss, x, y)).backward()
    if trainer.grad_clip:
        trainer.scaler.unscale_(trainer.optimizer)
        nn.utils.clip_grad_norm_(trainer.model.parameters(), trainer.grad_clip)
    trainer.scaler.step(trainer.optimizer)
    trainer.scaler.update()
    _constrain(trainer)
    return loss.detach(), out


def closure_step(trainer: Any, x: Any, y: Any) -> tuple[torch.Tensor, Any]:
    """One ``optimizer.step(closure)``; the loss and outputs are those the closure recorded."""
    penalty = trainer._penalty if (trainer.l1 or trainer.l2) else None
    closure = Closure(
        trainer.forward_model,
        x,
        y,
        trainer.loss_fn,
        penalty=penalty,
        autocast=trainer._autocast,
        zero_grad=trainer.optimizer.zero_grad,
        grad_clip=trainer.grad_clip,
    )
    trainer.optimizer.step(closure)
    _constrain(trainer)
    loss, out = closure.last_loss, closure.last_output
    if loss is None:
        raise RuntimeError(f"{type(trainer.optimizer).__name__}.step() never called its closure")
    trainer._check_finite(loss)
    return loss, out


def check_grad_clip(optimizer: torch.optim.Optimizer, grad_clip: float | None) -> None:
    """Refuse ``grad_clip`` for a closure optimizer that cannot honour it (all but L-BFGS).

    Raises:
        ConfigError: ``grad_clip`` is set and the optimizer does not step along the closure's gradient.
    """
    if grad_clip is None or isinstance(optimizer, torch.optim.LBFGS):
        return
    raise ConfigError(
        f"train.grad_clip: {type(optimizer).__name__} computes its update from its own curvature or "
        "sampling model, not from a gradient the trainer could clip; remove train.grad_clip (its step "
        "size is bounded by the method's own damping or trust region)"
    )


def choose_step(*, needs_closure: bool, scaled: bool) -> Step:
    """The step function for a trainer: closure, scaled or plain."""
    if needs_closure:
        return closure_step
    return scaled_step if scaled else plain_step
