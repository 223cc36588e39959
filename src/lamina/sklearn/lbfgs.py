"""scikit-learn's ``solver="lbfgs"`` for the MLP estimators: one L-BFGS minimisation of the full-batch penalised loss,
run on a float64 copy of the network, instead of the epochs of :class:`~lamina.Trainer` the other solvers go
through (Liu & Nocedal, 1989, "On the limited memory BFGS method for large scale optimization", Math. Programming)."""

from __future__ import annotations

import copy
import math
import warnings
from typing import Any

import numpy as np
import torch
from sklearn.exceptions import ConvergenceWarning

from lamina.data.dataset import ArrayDataset
from lamina.registry import resolve
from lamina.sklearn.errors import EstimatorDivergedError, caller_level

__all__ = ["fit_lbfgs", "full_lbfgs"]


def full_lbfgs(solver: Any) -> bool:
    """Whether ``solver`` names scikit-learn's L-BFGS (one run of the whole fit, not one step per epoch)."""
    return isinstance(solver, str) and solver in ("lbfgs", "l-bfgs")


def fit_lbfgs(
    estimator: Any, X: np.ndarray, targets: torch.Tensor, n_outputs: int, sample_weight: np.ndarray | None = None
) -> None:
    """scikit-learn's ``solver="lbfgs"``: one L-BFGS minimisation of the full-batch loss plus
    ``alpha / (2 n) * sum ||W||^2`` (weights, not biases), of at most ``max_iter`` iterations and ``max_fun``
    loss evaluations, stopping when no gradient entry exceeds ``tol`` (scipy's ``gtol``) or the loss stops
    changing. It runs on a float64 copy of the network (as scikit-learn's float64 arrays), copied back. With
    ``sample_weight`` the loss is the weighted mean and the penalty ``alpha / (2 sum w) * sum ||W||^2``."""
    new = estimator._fresh_module(X.shape[1], n_outputs, keep=estimator.warm_start)
    if new:
        estimator._pretrain(ArrayDataset(estimator._as_tensor(X), targets))
    dtype = estimator._inference_dtype(torch.float64)
    work = copy.deepcopy(estimator.module_).to(dtype).train()
    x = estimator._as_tensor(X, dtype).to(estimator.device_)
    t: Any = (targets.to(dtype) if targets.is_floating_point() else targets).to(estimator.device_)
    loss = estimator._loss
    loss_fn = loss if callable(loss) else resolve("loss", loss, path="loss").build()
    weights = [p for p in work.parameters() if p.ndim > 1]
    scale = estimator.alpha / (2 * len(X))
    if sample_weight is not None:
        t = (t, torch.tensor(sample_weight, dtype=dtype, device=estimator.device_))
        scale = estimator.alpha / (2 * float(sample_weight.sum()))
    optimizer = torch.optim.LBFGS(
        work.parameters(),
        lr=1.0,
        max_iter=estimator.max_iter,
        max_eval=estimator.max_fun,
        tolerance_grad=estimator.tol,
        tolerance_change=2.220446049250313e-09,
        history_size=10,
        line_search_fn="strong_wolfe",
    )  # scipy's m=10, ftol
    evaluations = 0

    def closure() -> torch.Tensor:
        """The penalised full-batch loss, its gradient left in ``.grad``."""
        nonlocal evaluations
        evaluations += 1
        optimizer.zero_grad()
        value = loss_fn(work(x), t) + scale * sum((w * w).sum() for w in weights)
        value.backward()
        return value

    optimizer.step(closure)
    state = optimizer.state[next(iter(work.parameters()))]
    with torch.no_grad():
        final = float(loss_fn(work(x), t) + scale * sum((w * w).sum() for w in weights))
    if not math.isfinite(final):
        raise EstimatorDivergedError(
            f"{estimator._diverged_message} ({type(estimator).__name__}: solver='lbfgs' diverged, loss {final}; "
            "scale the inputs or raise alpha)",
            epoch=0,
            step=int(state.get("n_iter", 0)),
        )
    with torch.no_grad():
        for kept, trained in zip(estimator.module_.parameters(), work.parameters()):
            kept.copy_(trained.to(kept.dtype))
    estimator.module_.eval()
    estimator._trainer, estimator._trainer_state = None, None
    estimator.n_iter_ = int(state.get("n_iter", 0))
    estimator.t_ += estimator.n_iter_ * len(X)
    estimator.loss_ = final
    estimator.loss_curve_ = [*estimator.loss_curve_, final]
    estimator.best_loss_ = None
    estimator.validation_scores_, estimator.best_validation_score_ = None, None
    if estimator.verbose:
        print(f"L-BFGS: {estimator.n_iter_} iterations, {evaluations} loss evaluations, loss = {final:.8f}")
    if estimator.n_iter_ >= estimator.max_iter or evaluations >= estimator.max_fun:
        limit = "iterations (max_iter)" if estimator.n_iter_ >= estimator.max_iter else "loss evaluations (max_fun)"
        warnings.warn(
            f"lbfgs failed to converge after {estimator.n_iter_} iteration(s): the number of {limit} "
            "reached its limit. Increase it or scale the data.",
            ConvergenceWarning,
            stacklevel=caller_level(),
        )
