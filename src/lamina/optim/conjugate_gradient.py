"""Preconditioned conjugate gradient as Hessian-free optimization runs it (Martens, 2010, sections 4.3-4.6).

CG minimises the quadratic model ``phi(x) = 1/2 x^T A x + b^T x`` (so ``A x = -b`` at the minimum) from a warm start
``x_0``, and stops on *relative progress* rather than on the residual: at iteration ``i`` with ``k = max(10, 0.1 i)``,

    phi(x_i) < 0  and  (phi(x_i) - phi(x_{i-k})) / phi(x_i) < k * eps

(``eps = 5e-4`` in the paper), because the objective's decrease, not the residual, is what training needs. It keeps the
iterates at ``ceil(gamma^j)`` (``gamma = 1.3``) so that the caller can backtrack to an earlier, shorter one when the
last overfits the curvature mini-batch.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field

import torch

__all__ = ["CGResult", "CGBreakdown", "conjugate_gradient"]


class CGBreakdown(ArithmeticError):
    """CG met a direction of non-positive or non-finite curvature ``p^T A p`` (``A`` is not positive definite)."""

    def __init__(self, iteration: int, curvature: float) -> None:
        self.iteration, self.curvature = iteration, curvature
        super().__init__(f"conjugate gradient broke down at iteration {iteration}: p^T A p = {curvature:.3g}")


@dataclass
class CGResult:
    """The outcome of :func:`conjugate_gradient`.

    Attributes:
        x: the last iterate.
        iterates: ``(i, x_i, phi(x_i))`` for the kept iterates ``i = ceil(gamma^j)`` and the last, in order.
        iterations: CG iterations run.
        phi: ``phi(x)`` of the last iterate.
        stopped: ``"progress"`` (relative progress below the tolerance), ``"max_iter"`` or ``"converged"``
            (the residual fell by the machine epsilon).
    """

    x: torch.Tensor
    iterates: list[tuple[int, torch.Tensor, float]] = field(default_factory=list)
    iterations: int = 0
    phi: float = 0.0
    stopped: str = "max_iter"


def _kept(max_iter: int, gamma: float) -> set[int]:
    if gamma <= 1:
        return set(range(1, max_iter + 1))
    kept, j = set(), 0
    while (i := math.ceil(gamma**j)) <= max_iter:
        kept.add(i)
        j += 1
    return kept


def conjugate_gradient(
    matvec: Callable[[torch.Tensor], torch.Tensor],
    b: torch.Tensor,
    x0: torch.Tensor | None = None,
    *,
    preconditioner: torch.Tensor | None = None,
    max_iter: int = 250,
    min_iter: int = 1,
    tol: float = 5e-4,
    gamma: float = 1.3,
) -> CGResult:
    """Minimise ``phi(x) = 1/2 x^T A x + b^T x`` by preconditioned conjugate gradient.

    Args:
        matvec: ``v -> A v`` for a symmetric positive definite ``A``.
        b: the linear term (the gradient, for Hessian-free).
        x0: the starting point (default zero).
        preconditioner: the diagonal of ``M``; CG then works in the metric of ``M^-1`` (entries must be > 0).
        max_iter, min_iter: bounds on the iterations.
        tol: ``eps`` of the relative-progress rule (0 disables it).
        gamma: keep iterate ``i`` when ``i = ceil(gamma^j)`` (every iterate if ``gamma <= 1``).

    Returns:
        A :class:`CGResult`.

    Raises:
        CGBreakdown: a search direction with ``p^T A p <= 0`` or non-finite.

    Cost: one ``matvec`` per iteration and a handful of vector operations.

    Reference: Martens, "Deep learning via Hessian-free optimization", ICML 2010; Shewchuk, "An introduction to the
    conjugate gradient method without the agonizing pain", 1994 (the preconditioned recurrence).
    """
    x = torch.zeros_like(b) if x0 is None else x0.clone()
    r = matvec(x) + b if x0 is not None else b.clone()  # r = A x + b, the gradient of phi
    y = r / preconditioner if preconditioner is not None else r
    p = -y
    ry = torch.dot(r, y)
    kept = _kept(max_iter, gamma)
    small = torch.finfo(b.dtype).eps ** 2 * ry  # |r| down by the machine epsilon: solved to working precision
    phis: list[float] = []
    result = CGResult(x=x, phi=float(0.5 * torch.dot(x, r + b)))
    if ry == 0:  # already at the minimum (a zero gradient from a zero start)
        result.stopped = "converged"
        result.iterates.append((0, x, result.phi))
        return result
    for i in range(1, max_iter + 1):
        ap = matvec(p)
        curvature = torch.dot(p, ap)
        if not torch.isfinite(curvature) or curvature <= 0:
            raise CGBreakdown(i, float(curvature))
        alpha = ry / curvature
        x = x + alpha * p
        r = r + alpha * ap
        y = r / preconditioner if preconditioner is not None else r
        ry_new = torch.dot(r, y)
        p = -y + (ry_new / ry) * p
        ry = ry_new
        phi = float(0.5 * torch.dot(x, r + b))  # phi = 1/2 x^T (A x) + b^T x with A x = r - b
        phis.append(phi)
        if i in kept:
            result.iterates.append((i, x, phi))
        k = max(10, int(0.1 * i))
        result.iterations, result.phi, result.x = i, phi, x
        if ry <= small:
            result.stopped = "converged"
            break
        if i >= min_iter and i > k and tol > 0 and phi < 0 and (phi - phis[i - 1 - k]) / phi < k * tol:
            result.stopped = "progress"
            break
    if not result.iterates or result.iterates[-1][0] != result.iterations:
        result.iterates.append((result.iterations, result.x, result.phi))
    return result
