"""The trainer's weight penalty: ``l1 * sum|w| + (l2 / 2) * sum w^2`` over the weight matrices and kernels of a
model (parameters of two or more dimensions; biases and gains are not penalised)."""

from __future__ import annotations

import torch
from torch import nn

__all__ = ["add_penalty_gradient", "penalized", "penalty"]


def penalized(model: nn.Module) -> list[nn.Parameter]:
    """The trainable weight matrices and kernels of ``model`` (``dim > 1``): what the penalty covers."""
    return [p for p in model.parameters() if p.requires_grad and p.dim() > 1]


def penalty(model: nn.Module, l1: float, l2: float, device: torch.device) -> torch.Tensor | None:
    """``l1 * sum|w| + (l2 / 2) * sum w^2`` over :func:`penalized` weights, a scalar on ``device``; ``None`` when both
    coefficients are zero."""
    if not (l1 or l2):
        return None
    total = torch.zeros((), device=device)
    for w in penalized(model):
        if l1:
            total = total + l1 * w.abs().sum()
        if l2:
            total = total + 0.5 * l2 * w.pow(2).sum()
    return total


@torch.no_grad()
def add_penalty_gradient(model: nn.Module, l1: float, l2: float) -> None:
    """Add ``l1 sign(w) + l2 w`` to each weight's gradient: what backward through :func:`penalty` gives, without its
    autograd graph (on small networks that graph cost as much as the network's own backward)."""
    for w in penalized(model):
        g = w.grad
        if l2:
            g = w.mul(l2) if g is None else g.add_(w, alpha=l2)
        if l1:
            g = w.sign().mul_(l1) if g is None else g.add_(w.sign(), alpha=l1)
        w.grad = g
