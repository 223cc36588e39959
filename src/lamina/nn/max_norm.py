"""The max-norm weight constraint (Srivastava, Hinton, Krizhevsky, Sutskever & Salakhutdinov, 2014, "Dropout: a
simple way to prevent neural networks from overfitting", JMLR 15, section 5.1): after every optimizer update, each
unit's incoming weight vector ``w_i`` is projected back onto the ball ``||w_i||_2 <= c``,

    w_i <- w_i * min(1, c / ||w_i||),

so a vector already inside the ball is left exactly as it is. With dropout it lets a large learning rate explore
without the weights blowing up (Srivastava et al. use ``c`` between 3 and 4 on MNIST). Keras calls it
``kernel_constraint=MaxNorm(c)``; here it is a layer option, ``{ type = "dense", units = 1024, max_norm = 3.5 }``,
and :func:`apply_max_norm` in Python. The trainer projects every constrained weight after each optimizer step
(:func:`enforce_max_norm`); a hand-written loop calls :func:`enforce_max_norm` after ``optimizer.step()`` itself.

It is a projection after the step, not a reparametrization (compare :mod:`lamina.nn.weight_norm`): the gradient
and the optimizer's state are those of the unconstrained weight, as in the paper.
"""

from __future__ import annotations

import math

import torch
from torch import nn
from torch.nn.utils import parametrize

__all__ = ["MAX_NORM_ATTRIBUTE", "apply_max_norm", "constrained_weights", "enforce_max_norm", "max_norm_"]

MAX_NORM_ATTRIBUTE = "max_norm_constraints"  # on a constrained module: {parameter name: c}


@torch.no_grad()
def max_norm_(weight: torch.Tensor, max_norm: float) -> torch.Tensor:
    """Rescale, in place, each output unit's incoming weights (the slices along dim 0: the rows of a dense
    ``(out, in)`` weight, the filters of a convolution's ``(out, in, *kernel)``) whose L2 norm exceeds ``max_norm``
    to norm ``max_norm``; the others are not touched. Returns ``weight``."""
    if weight.dim() < 2:
        raise ValueError(f"max-norm needs a weight of 2 or more dimensions (units on dim 0), got {tuple(weight.shape)}")
    norms = weight.flatten(1).norm(dim=1)
    scale = (max_norm / norms).clamp(max=1.0)  # a zero row gives inf, clamped to 1
    weight.mul_(scale.view(-1, *([1] * (weight.dim() - 1))).to(weight.dtype))
    return weight


def apply_max_norm(module: nn.Module, max_norm: float, name: str = "weight") -> nn.Module:
    """Constrain ``module.<name>`` (units on dim 0) to unit norms ``<= max_norm`` after every optimizer step the
    :class:`~lamina.Trainer` takes (Srivastava et al., 2014). Returns ``module``.

    The constraint is recorded on the module (``module.max_norm_constraints[name] = max_norm``); the initial weights
    are not changed (Keras' constraints act after each update too).

    Raises:
        ValueError: ``max_norm`` is not a positive finite number, or the weight is missing, has fewer than two
            dimensions or is reparametrized (weight norm computes it; constrain one or the other).
    """
    if isinstance(max_norm, bool) or not isinstance(max_norm, (int, float)) or not 0 < max_norm < math.inf:
        raise ValueError(f"max_norm must be a positive finite number, got {max_norm!r}")
    weight = getattr(module, name, None)
    if not isinstance(weight, nn.Parameter) or weight.dim() < 2:
        shape = None if weight is None else tuple(getattr(weight, "shape", ()))
        raise ValueError(
            f"max-norm needs a weight parameter of 2 or more dimensions on {type(module).__name__}.{name}, got {shape}"
        )
    if parametrize.is_parametrized(module, name):
        raise ValueError(
            f"{type(module).__name__}.{name} is reparametrized (weight norm): max-norm projects a stored weight; "
            "use one of the two"
        )
    constraints = dict(getattr(module, MAX_NORM_ATTRIBUTE, {}))
    constraints[name] = float(max_norm)
    setattr(module, MAX_NORM_ATTRIBUTE, constraints)
    return module


def constrained_weights(model: nn.Module) -> list[tuple[torch.Tensor, float]]:
    """``(weight, c)`` for every weight in ``model`` that :func:`apply_max_norm` constrained."""
    found = []
    for module in model.modules():
        for name, c in getattr(module, MAX_NORM_ATTRIBUTE, {}).items():
            found.append((getattr(module, name), c))
    return found


def enforce_max_norm(model: nn.Module | list[tuple[torch.Tensor, float]]) -> None:
    """Project every constrained weight of ``model`` (or of a :func:`constrained_weights` list) onto its max-norm
    ball; call it after each ``optimizer.step()`` in a hand-written loop (the trainer does)."""
    pairs = constrained_weights(model) if isinstance(model, nn.Module) else model
    for weight, c in pairs:
        max_norm_(weight, c)
