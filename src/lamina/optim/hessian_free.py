"""Hessian-free optimization (Martens, 2010; Martens & Sutskever, 2012): truncated Newton steps on the damped
Gauss-Newton quadratic model, solved by conjugate gradient from curvature-vector products alone.

At weights ``w`` with gradient ``g`` (on the step's batch) and Gauss-Newton matrix ``G`` (on a curvature mini-batch),
one step minimises the damped model ``q(p) = g^T p + 1/2 p^T (G + lambda I) p`` by CG from ``zeta * p_prev``, keeps
the CG iterate that gives the lowest loss (backtracking over the saved iterates), adapts ``lambda`` by the reduction
ratio ``rho = (f(w + p) - f(w)) / (q_0(p) - q_0(0))`` of the undamped model ``q_0`` (``lambda *= 3/2`` if
``rho < 1/4``, ``lambda *= 2/3`` if ``rho > 3/4``; Levenberg-Marquardt), and takes ``w <- w + lr * alpha * p`` with
``alpha`` from an Armijo backtracking line search (usually 1).
"""

from __future__ import annotations

import contextlib
import math
from collections.abc import Callable, Iterable, Sequence
from typing import Annotated, ClassVar

import torch
from pydantic import model_validator

from lamina.config.component import Bounds, Choices, spec_base, validated
from lamina.config.fields import raise_problems
from lamina.optim.closures import is_batch_closure, loss_and_outputs, record, require_closure
from lamina.optim.conjugate_gradient import CGBreakdown, CGResult, conjugate_gradient
from lamina.optim.curvature import CurvatureError, GaussNewton, flatten, unflatten
from lamina.optim.fisher import empirical_fisher_diagonal
from lamina.optim.torch_optimizers import OptimizerSpec, Params
from lamina.registry import register

__all__ = ["HessianFree", "HessianFreeSpec", "adapt_damping", "backtrack", "armijo"]

_AUTOCAST = {"fp32": None, "bf16": torch.bfloat16, "fp16": torch.float16}  # curvature_precision -> autocast dtype

FORM = """    def closure():
        outputs = model(x)                      # logits for cross-entropy: the matching-loss split
        return loss_fn(outputs, y), outputs     # both with their graph, no backward()"""


def adapt_damping(damping: float, rho: float, *, boost: float = 1.5, drop: float = 2 / 3) -> float:
    """Levenberg-Marquardt: ``lambda * boost`` if ``rho < 1/4``, ``lambda * drop`` if ``rho > 3/4``, else unchanged
    (Martens, 2010, section 4.1; a non-finite ``rho`` counts as a failure)."""
    if not math.isfinite(rho) or rho < 0.25:
        return damping * boost
    return damping * drop if rho > 0.75 else damping


def backtrack(
    iterates: Sequence[tuple[int, torch.Tensor, float]], evaluate: Callable[[torch.Tensor], float]
) -> tuple[int, float]:
    """CG-iterate backtracking (Martens, 2010, section 4.6): from the last saved iterate go back to earlier ones while
    the loss ``evaluate(x_i)`` keeps decreasing. Returns the chosen position in ``iterates`` and its loss."""
    best, f_best = len(iterates) - 1, evaluate(iterates[-1][1])
    for j in range(len(iterates) - 2, -1, -1):
        f = evaluate(iterates[j][1])
        if not f < f_best:
            break
        best, f_best = j, f
    return best, f_best


def armijo(
    evaluate: Callable[[float], float],
    f0: float,
    slope: float,
    f1: float,
    *,
    c: float = 1e-2,
    shrink: float = 0.8,
    max_steps: int = 60,
) -> tuple[float, float]:
    """The largest ``alpha = shrink^k`` (``k < max_steps``) with ``f(alpha) <= f0 + c * alpha * slope``, given
    ``f1 = f(1)``; ``(0, f0)`` if none (Martens & Sutskever, 2012, section 8.8)."""
    alpha, f = 1.0, f1
    for _ in range(max_steps):
        if f <= f0 + c * alpha * slope:
            return alpha, f
        alpha *= shrink
        f = evaluate(alpha)
    return 0.0, f0


class HessianFree(torch.optim.Optimizer):
    """Hessian-free (truncated Gauss-Newton) optimization with Levenberg-Marquardt damping.

    ``G v = J^T H_L J v`` is computed exactly by autodiff (:class:`~lamina.optim.curvature.GaussNewton`); CG stops by
    Martens' relative-progress rule and warm-starts from ``cg_decay`` times the previous solution; the optional
    preconditioner is ``(diag(F) + lambda)^0.75`` with ``F`` the empirical Fisher matrix of the curvature batch.

    Args:
        params: the weights (one parameter group, as for ``torch.optim.LBFGS``).
        lr: scales the final step (1 is the Newton-like step).
        damping: the initial ``lambda``; adapted each step (Martens' 45 is for sums over outputs; lamina's losses
            average over them, so the curvature and a good ``lambda`` are smaller).
        damping_boost, damping_drop: multipliers when the model fits badly (``rho < 1/4``) or well (``rho > 3/4``).
        cg_max_iter, cg_min_iter: bounds on CG iterations per step (Martens: at most 250).
        cg_tol: ``eps`` of the relative-progress stopping rule (5e-4).
        cg_decay: warm start CG at ``cg_decay`` times the previous step's CG solution (0.95; 0 starts from zero).
        curvature_batch: the fraction of the batch whose Gauss-Newton products CG uses, cycling through the batch
            step by step (needs a lamina ``Closure``; a plain closure can pass ``step(closure, curvature_closure)``).
        preconditioner: ``"none"`` (or ``None``) or ``"empirical_fisher"`` (needs a lamina ``Closure``: per-example
            gradients).
        backtracking: choose among the saved CG iterates by the loss (Martens, 2010, section 4.6).
        line_search: Armijo backtracking on the final step (``c = 1e-2``, factor 0.8).
        max_retries: on a CG breakdown or non-finite curvature, multiply ``lambda`` by 10 and retry this many times,
            then raise :class:`~lamina.optim.curvature.CurvatureError`.
        curvature_precision: ``"fp32"``, or ``"bf16"`` / ``"fp16"``: the curvature batch's forward pass runs under
            ``torch.autocast`` at that precision, so every Gauss-Newton product of the CG iterations runs in it
            (about twice as fast on GPUs and on CPUs with bf16 instructions, products within about 1%); the gradient,
            the CG vectors, the backtracking and the line search keep the weights' precision. The curvature is an
            approximation already (a mini-batch, damped); this makes it a slightly coarser one.

    Closure: ``step(closure)`` takes a :class:`lamina.train.Closure` (the Trainer's) or a function returning
    ``(loss, outputs)`` with their graph, not back-propagated; the loss Hessian is taken with respect to those
    outputs, so give logits for (softmax or logistic) cross-entropy::

        def closure():
            outputs = model(x)
            return loss_fn(outputs, y), outputs
        optimizer.step(closure)

    Memory: about 25 copies of the weights (the CG vectors and the ~20 saved iterates), plus the graph of one
    forward pass of the curvature batch.

    Example:
        >>> opt = HessianFree(model.parameters(), damping=1.0, curvature_batch=0.1, preconditioner="empirical_fisher")
        >>> Trainer(model, loss="mse", optimizer=opt, batch_size=len(train)).fit(train)

    References:
        Martens, "Deep learning via Hessian-free optimization", ICML 2010.
        Martens & Sutskever, "Training deep and recurrent networks with Hessian-free optimization", Neural Networks:
        Tricks of the Trade, 2nd ed., 2012.
    """

    needs_closure: ClassVar[bool] = True

    @validated
    def __init__(
        self,
        params: Params,
        lr: Annotated[float, Bounds(gt=0)] = 1.0,
        *,
        damping: Annotated[float, Bounds(gt=0)] = 1.0,
        damping_boost: Annotated[float, Bounds(gt=1)] = 1.5,  # Martens' 3/2 and 2/3
        damping_drop: Annotated[float, Bounds(gt=0, lt=1)] = 2 / 3,
        cg_max_iter: Annotated[int, Bounds(ge=1)] = 250,
        cg_min_iter: Annotated[int, Bounds(ge=1)] = 1,
        cg_tol: Annotated[float, Bounds(ge=0)] = 5e-4,
        cg_decay: Annotated[float, Bounds(ge=0, le=1)] = 0.95,
        curvature_batch: Annotated[float, Bounds(gt=0, le=1)] = 1.0,
        preconditioner: Annotated[str | None, Choices("none", "empirical_fisher")] = "none",
        backtracking: bool = True,
        line_search: bool = True,
        max_retries: Annotated[int, Bounds(ge=0)] = 5,
        curvature_precision: Annotated[str, Choices(*_AUTOCAST)] = "fp32",
    ) -> None:
        if cg_min_iter > cg_max_iter:
            raise ValueError(
                f"Invalid HessianFree: cg_min_iter: must be <= cg_max_iter ({cg_max_iter}), got {cg_min_iter}"
            )
        preconditioner = None if preconditioner == "none" else preconditioner
        defaults = dict(
            lr=lr,
            damping=damping,
            damping_boost=damping_boost,
            damping_drop=damping_drop,
            cg_max_iter=cg_max_iter,
            cg_min_iter=cg_min_iter,
            cg_tol=cg_tol,
            cg_decay=cg_decay,
            curvature_batch=curvature_batch,
            preconditioner=preconditioner,
            backtracking=backtracking,
            line_search=line_search,
            max_retries=max_retries,
            curvature_precision=curvature_precision,
        )
        super().__init__(params, defaults)
        if len(self.param_groups) != 1:
            raise ValueError("HessianFree doesn't support per-parameter options (parameter groups)")
        self._params = self.param_groups[0]["params"]

    def _set(self, flat: torch.Tensor) -> None:
        with torch.no_grad():
            for p, v in zip(self._params, unflatten(flat, self._params)):
                p.copy_(v)

    def _curvature_source(self, closure: Callable, curvature_closure: Callable | None, step: int) -> Callable | None:
        """The closure for the curvature batch, or ``None`` to reuse the gradient batch's graph."""
        if curvature_closure is not None:
            return curvature_closure
        fraction = self.param_groups[0]["curvature_batch"]
        if fraction >= 1 or not is_batch_closure(closure):
            return None
        inputs = closure.inputs[0] if isinstance(closure.inputs, tuple) else closure.inputs
        size = max(1, math.ceil(fraction * len(inputs)))
        chunk = step % max(1, len(inputs) // size)  # cycle through the batch (Martens, 2010, section 4.5)
        return closure.subset(slice(chunk * size, (chunk + 1) * size))

    def _preconditioner(self, source: Callable) -> torch.Tensor:
        if not is_batch_closure(source) or isinstance(source.inputs, tuple) or source.loss_fn is None:
            raise ValueError(
                "HessianFree(preconditioner='empirical_fisher') needs per-example gradients, which it "
                "computes from a lamina Closure with one input tensor and a loss: pass "
                "lamina.train.Closure(model, x, y, loss_fn) as the closure, or set preconditioner=None"
            )
        return empirical_fisher_diagonal(source.model, self._params, source.inputs, source.targets, source.loss_fn)

    def _solve(self, gn: GaussNewton, g: torch.Tensor, fisher: torch.Tensor | None, state: dict) -> CGResult:
        """CG on ``(G + lambda I) p = -g``; a breakdown multiplies ``lambda`` by 10 and retries from zero."""
        group = self.param_groups[0]
        previous = state.get("direction")
        x0 = group["cg_decay"] * previous if previous is not None and group["cg_decay"] > 0 else None
        for attempt in range(group["max_retries"] + 1):
            damping = state["damping"]
            precond = (fisher + damping).pow(0.75) if fisher is not None else None  # Martens' exponent
            try:
                result = conjugate_gradient(
                    lambda v: gn.matvec(v) + damping * v,
                    g,
                    x0,
                    preconditioner=precond,
                    max_iter=group["cg_max_iter"],
                    min_iter=group["cg_min_iter"],
                    tol=group["cg_tol"],
                )
                state["retries"] = attempt
                return result
            except CGBreakdown as err:
                state["damping"], x0, failure = damping * 10, None, err
        raise CurvatureError(
            f"HessianFree: {failure} even with damping lambda = {damping:.3g} after "
            f"{group['max_retries']} retries (each x10): the Gauss-Newton curvature is not finite or "
            "not positive definite. Check that the outputs and loss are finite, that the loss is "
            "convex in the outputs it is given (logits for cross-entropy), or raise damping"
        )

    def _update(
        self, cg: CGResult, g: torch.Tensor, f0: float, loss_at: Callable[[torch.Tensor], float], state: dict
    ) -> torch.Tensor:
        """Choose the CG iterate, adapt lambda by the reduction ratio and line-search; returns the weight change."""
        group, lr, damping = self.param_groups[0], self.param_groups[0]["lr"], state["damping"]
        if group["backtracking"]:
            chosen, f_new = backtrack(cg.iterates, loss_at)
        else:
            chosen, f_new = len(cg.iterates) - 1, loss_at(cg.iterates[-1][1])
        _, x, phi = cg.iterates[chosen]
        # the undamped model's change at lr * x, from phi(x) = 1/2 x^T (G + lambda I) x + g^T x
        gx = float(torch.dot(g, x))
        curvature = 2 * (phi - gx) - damping * float(torch.dot(x, x))
        predicted = 0.5 * lr * lr * curvature + lr * gx
        rho = (f_new - f0) / predicted if predicted < 0 else -math.inf
        state["damping"] = adapt_damping(damping, rho, boost=group["damping_boost"], drop=group["damping_drop"])
        alpha = 1.0
        if group["line_search"]:
            alpha, f_new = armijo(lambda a: loss_at(a * x), f0, lr * gx, f_new)
        elif not f_new < math.inf:
            alpha = 0.0
        state.update(
            direction=cg.x.detach(),
            rho=rho,
            cg_iterations=cg.iterations,
            cg_stopped=cg.stopped,
            step_size=alpha,
            loss_after=f_new if alpha > 0 else f0,
        )
        return lr * alpha * x

    def step(self, closure: Callable | None = None, curvature_closure: Callable | None = None) -> torch.Tensor:
        """One Hessian-free step; returns the loss before it.

        Args:
            closure: the batch (see the class docstring): ``closure()`` gives ``(loss, outputs)``, or a lamina
                ``Closure``.
            curvature_closure: optional, the same form on the curvature mini-batch.
        """
        require_closure("HessianFree", closure, FORM)
        group, params = self.param_groups[0], self._params
        state = self.state[params[0]]
        state.setdefault("damping", group["damping"])
        state.setdefault("step", 0)
        with torch.enable_grad():
            loss, outputs = loss_and_outputs("HessianFree", closure, FORM)
        record(closure, loss, outputs)
        if not torch.isfinite(loss):
            return loss.detach()  # nothing sensible to do; the trainer reports the divergence
        source = self._curvature_source(closure, curvature_closure, state["step"])
        grads = torch.autograd.grad(loss, params, retain_graph=source is None, allow_unused=True)
        g = flatten([None if t is None else t.detach() for t in grads], params)
        if not torch.isfinite(g).all():
            raise CurvatureError(
                f"HessianFree: the gradient is not finite (loss {float(loss.detach()):.6g}); check "
                "the inputs and targets for NaN/inf values"
            )
        for p, t in zip(params, unflatten(g, params)):
            p.grad = t.clone()
        state["step"] += 1
        if not g.any():
            return loss.detach()
        dtype = _AUTOCAST[group.get("curvature_precision", "fp32")]  # (state saved before the option: fp32)
        if dtype is not None and source is None:
            source = closure  # the batch's own graph is in full precision: a second forward pass, under autocast
        with (
            torch.enable_grad(),
            torch.autocast(params[0].device.type, dtype=dtype) if dtype is not None else contextlib.nullcontext(),
        ):
            curv_loss, curv_out = (loss, outputs) if source is None else loss_and_outputs("HessianFree", source, FORM)
        fisher = None
        if group["preconditioner"] == "empirical_fisher":
            fisher = self._preconditioner(source if source is not None else closure)
        cg = self._solve(GaussNewton(curv_loss, curv_out, params), g, fisher, state)  # the graph goes with it
        theta = flatten([p.detach() for p in params], params).clone()

        def _loss_at(x: torch.Tensor) -> float:
            self._set(theta + group["lr"] * x)
            with torch.no_grad():
                value = float(loss_and_outputs("HessianFree", closure, FORM)[0])
            return value if math.isfinite(value) else math.inf

        self._set(theta + self._update(cg, g, float(loss.detach()), _loss_at, state))
        return loss.detach()


@register("optimizer", "hessian_free", aliases=("hf",))
class HessianFreeSpec(spec_base(HessianFree, OptimizerSpec, exclude=("params",))):
    """Hessian-free optimization (Martens, 2010): CG on the damped Gauss-Newton model, Levenberg-Marquardt damping,
    CG backtracking and a line search. Best with large batches (``batch_size`` in the thousands, or the whole set).
    The options are :class:`HessianFree`'s keyword arguments, with its defaults and bounds."""

    needs_closure: ClassVar[bool] = True

    @model_validator(mode="after")
    def _cg_bounds(self) -> HessianFreeSpec:
        if self.cg_min_iter > self.cg_max_iter:
            raise_problems(
                "hessian_free",
                [(("cg_min_iter",), f"must be <= cg_max_iter ({self.cg_max_iter}), got {self.cg_min_iter}")],
            )
        return self

    def build(self, params: Params | Iterable) -> torch.optim.Optimizer:
        """A :class:`HessianFree` optimizer over ``params`` with these options."""
        return HessianFree(params, **self.options())
