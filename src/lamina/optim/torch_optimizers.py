"""The optimizers torch ships, by name (``optimizer = { type = "sgd", lr = 0.1, momentum = 0.9 }``).

Each spec validates its options in config terms (so ``lamina config check`` catches them) and builds the
``torch.optim`` optimizer. The keys are torch's keyword names with torch's defaults (``lr`` of SGD is 1e-3, as in
``torch.optim.SGD``; L-BFGS has no line search unless ``line_search_fn = "strong_wolfe"``): torch's signature
declares them, and ``tests/config/test_component_consistency.py`` checks each spec against it (issue 25). The
bounds are lamina's, since torch's signatures declare none. Optimizers that re-evaluate the loss (L-BFGS here;
Hessian-free and EKF in their own modules) set ``needs_closure`` and the trainer passes them a
:class:`~lamina.train.closure.Closure`.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Annotated, ClassVar

import torch
from pydantic import Field, model_validator

from lamina.config.fields import choice, count, number, raise_problems
from lamina.config.spec import Spec
from lamina.registry import register

__all__ = ["OptimizerSpec"]

Params = Iterable[torch.nn.Parameter] | Iterable[dict]


class OptimizerSpec(Spec):
    """An optimizer: ``build(params) -> torch.optim.Optimizer``.

    Attributes:
        needs_closure: ``step`` must be given a closure that re-evaluates the loss (L-BFGS, Hessian-free, EKF).
    """

    needs_closure: ClassVar[bool] = False

    lr: number(0, lo_open=True) = 1e-3

    def build(self, params: Params) -> torch.optim.Optimizer:
        """The optimizer over ``params``."""
        raise NotImplementedError


_decay = number(0)


def _fused(fused: bool | None, params: Params) -> tuple[list, dict]:
    """``params`` as a list (param groups with listed parameters) and the ``fused`` keyword for torch's Adam/AdamW.

    ``fused=None`` picks torch's fused kernel (one kernel per parameter instead of a dozen tensor operations,
    about 3x faster steps on small CPU networks) when every parameter is a floating-point tensor on the CPU or a
    CUDA device, and torch's default path otherwise; ``True`` or ``False`` is passed through.
    """
    params = [{**p, "params": list(p["params"])} if isinstance(p, dict) else p for p in params]
    if fused is None:
        tensors = [t for p in params for t in (p["params"] if isinstance(p, dict) else [p])]
        fused = bool(tensors) and all(t.is_floating_point() and t.device.type in ("cpu", "cuda") for t in tensors)
    return params, {"fused": fused} if fused else {}


@register("optimizer", "sgd")
class SGDSpec(OptimizerSpec):
    """Stochastic gradient descent with optional (Nesterov) momentum (Robbins & Monro, 1951; Polyak, 1964;
    Sutskever et al., 2013): ``v <- mu v + g``, ``w <- w - lr v``."""

    target_class: ClassVar[type] = torch.optim.SGD

    lr: number(0, lo_open=True) = 1e-3
    momentum: number(0, 1, hi_open=True) = 0.0
    dampening: number(0, 1) = 0.0
    nesterov: bool = False
    weight_decay: _decay = 0.0

    @model_validator(mode="after")
    def _nesterov(self) -> SGDSpec:
        if self.nesterov and (self.momentum <= 0 or self.dampening != 0):
            raise_problems("sgd", [(("nesterov",), "Nesterov momentum requires a momentum > 0 and zero dampening")])
        return self

    def build(self, params: Params) -> torch.optim.Optimizer:
        """``torch.optim.SGD`` with these options."""
        return torch.optim.SGD(params, **self.options())


@register("optimizer", "adagrad")
class AdaGradSpec(OptimizerSpec):
    """AdaGrad: per-weight rates ``lr / sqrt(sum g^2)`` (Duchi, Hazan & Singer, 2011)."""

    target_class: ClassVar[type] = torch.optim.Adagrad

    lr: number(0, lo_open=True) = 0.01
    lr_decay: _decay = 0.0
    weight_decay: _decay = 0.0
    initial_accumulator_value: _decay = 0.0
    eps: number(0, lo_open=True) = 1e-10

    def build(self, params: Params) -> torch.optim.Optimizer:
        """``torch.optim.Adagrad`` with these options."""
        return torch.optim.Adagrad(params, **self.options())


@register("optimizer", "adadelta")
class AdaDeltaSpec(OptimizerSpec):
    """AdaDelta: rates from running averages of squared gradients and updates (Zeiler, 2012)."""

    target_class: ClassVar[type] = torch.optim.Adadelta

    lr: number(0, lo_open=True) = 1.0
    rho: number(0, 1, hi_open=True) = 0.9
    eps: number(0, lo_open=True) = 1e-6
    weight_decay: _decay = 0.0

    def build(self, params: Params) -> torch.optim.Optimizer:
        """``torch.optim.Adadelta`` with these options."""
        return torch.optim.Adadelta(params, **self.options())


@register("optimizer", "rmsprop")
class RMSPropSpec(OptimizerSpec):
    """RMSProp: divide by a running RMS of the gradient, optionally with momentum (Tieleman & Hinton, 2012)."""

    target_class: ClassVar[type] = torch.optim.RMSprop

    lr: number(0, lo_open=True) = 0.01
    alpha: number(0, 1, hi_open=True) = 0.99
    eps: number(0, lo_open=True) = 1e-8
    momentum: number(0, 1, hi_open=True) = 0.0
    centered: bool = False
    weight_decay: _decay = 0.0

    def build(self, params: Params) -> torch.optim.Optimizer:
        """``torch.optim.RMSprop`` with these options."""
        return torch.optim.RMSprop(params, **self.options())


@register("optimizer", "adam")
class AdamSpec(OptimizerSpec):
    """Adam: bias-corrected running moments of the gradient (Kingma & Ba, 2015).

    ``fused``: torch's fused kernel; ``None`` (default) uses it wherever torch has one for the parameters (floating
    point, CPU or CUDA), see :func:`_fused`.
    """

    target_class: ClassVar[type] = torch.optim.Adam

    lr: number(0, lo_open=True) = 1e-3
    betas: Annotated[list[number(0, 1, hi_open=True)], Field(min_length=2, max_length=2)] = [0.9, 0.999]
    eps: number(0, lo_open=True) = 1e-8
    weight_decay: _decay = 0.0
    amsgrad: bool = False
    fused: bool | None = None

    def build(self, params: Params) -> torch.optim.Optimizer:
        """``torch.optim.Adam`` with these options."""
        params, fused = _fused(self.fused, params)
        return torch.optim.Adam(params, **self.options(betas=tuple(self.betas), **fused))


@register("optimizer", "adamw")
class AdamWSpec(AdamSpec):
    """Adam with decoupled weight decay (Loshchilov & Hutter, 2019)."""

    target_class: ClassVar[type] = torch.optim.AdamW

    weight_decay: _decay = 0.01

    def build(self, params: Params) -> torch.optim.Optimizer:
        """``torch.optim.AdamW`` with these options."""
        params, fused = _fused(self.fused, params)
        return torch.optim.AdamW(params, **self.options(betas=tuple(self.betas), **fused))


@register("optimizer", "lbfgs", aliases=("l-bfgs",))
class LBFGSSpec(OptimizerSpec):
    """Limited-memory BFGS (Liu & Nocedal, 1989); re-evaluates the loss through a closure. Best full-batch
    (``batch_size`` = the training set size). Memory: ``2 * history_size`` copies of the parameters."""

    needs_closure: ClassVar[bool] = True
    target_class: ClassVar[type] = torch.optim.LBFGS

    lr: number(0, lo_open=True) = 1.0
    max_iter: count() = 20
    history_size: count() = 100
    tolerance_grad: number(0) = 1e-7
    tolerance_change: number(0) = 1e-9
    # torch's default, no line search; "strong_wolfe" is what makes full-batch L-BFGS robust ("none": None)
    line_search_fn: choice("strong_wolfe", "none") | None = None

    def build(self, params: Params) -> torch.optim.Optimizer:
        """``torch.optim.LBFGS`` with these options."""
        return torch.optim.LBFGS(
            params, **self.options(line_search_fn=None if self.line_search_fn == "none" else self.line_search_fn)
        )
