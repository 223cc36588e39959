"""scikit-learn's stopping rule for its stochastic MLP solvers, as a :class:`~lamina.train.Callback`.

``sklearn.neural_network.MLPClassifier`` stops when, for more than ``n_iter_no_change`` consecutive epochs, the
training loss has not fallen ``tol`` below the lowest loss seen so far (or, with ``early_stopping``, the
validation score has not risen ``tol`` above the best score, whose weights are then restored). lamina's
estimators stop by the same rule so that equal hyper-parameters mean an equal number of epochs. The same module
holds scikit-learn's SGD learning-rate rules (``learning_rate="invscaling"`` here, ``"adaptive"`` inside the
stopping rule, as in ``sklearn.neural_network._stochastic_optimizers.SGDOptimizer``) and its verbose line.
"""

from __future__ import annotations

import copy
import math
from collections.abc import Callable
from typing import Any

from torch import nn

from lamina.train.callbacks.base import Callback

__all__ = ["InverseScalingRate", "IterationLines", "SklearnConvergence"]

ADAPTIVE_FLOOR = 1e-6  # scikit-learn's adaptive rate stops training once the learning rate is at most this


class SklearnConvergence(Callback):
    """Stop as scikit-learn's ``_update_no_improvement_count`` does.

    Without a validation score: an epoch whose loss ``L_t > min_{s<t} L_s - tol`` counts as no improvement;
    with ``score`` (``early_stopping=True``): an epoch whose score ``S_t < max_{s<t} S_s + tol`` does. Any other
    epoch resets the count; training stops once the count exceeds ``n_iter_no_change``. With ``adaptive``
    (scikit-learn's ``learning_rate="adaptive"``) a count past the patience instead divides the optimizer's
    learning rate by 5 and starts the count again, and stops only once the rate is at most ``1e-6``.

    Args:
        tol: the least improvement that resets the count.
        n_iter_no_change: the number of non-improving epochs tolerated.
        score: ``score(model) -> float`` on held-out data (higher is better), or ``None`` to watch the loss.
        adaptive: divide the learning rate by 5 instead of stopping, while it exceeds ``1e-6``.
        verbose: print scikit-learn's ``Validation score: ...`` line each epoch and its message when the count
            passes the patience.

    Attributes:
        best_loss: the lowest training loss (``None`` when a score is watched).
        scores: the score after each epoch (``None`` when the loss is watched).
        best_score: the best score; its weights are put back when training ends.
        converged: whether training stopped by this rule (rather than by running out of epochs).
    """

    def __init__(
        self,
        *,
        tol: float,
        n_iter_no_change: float,
        score: Callable[[nn.Module], float] | None = None,
        adaptive: bool = False,
        verbose: bool = False,
    ) -> None:
        self.tol, self.n_iter_no_change, self.score = tol, n_iter_no_change, score
        self.adaptive, self.verbose = adaptive, verbose
        self.on_train_begin(None)

    def on_train_begin(self, trainer: Any) -> None:
        """Reset the count and the bests."""
        self.best_loss: float | None = None if self.score is not None else math.inf
        self.scores: list[float] | None = [] if self.score is not None else None
        self.best_score: float | None = -math.inf if self.score is not None else None
        self.best_weights: dict | None = None
        self.no_improvement = 0
        self.converged = False
        self.message = ""

    def on_epoch_end(self, trainer: Any, epoch: int, logs: dict[str, float]) -> None:
        """Count the epoch as an improvement or not; stop the trainer once the count exceeds the patience."""
        if self.score is None:
            loss, best_loss = logs["loss"], self.best_loss
            if best_loss is None:  # on_train_begin starts it at inf when there is no score
                raise RuntimeError("the stopping rule was not started: call on_train_begin first")
            self.no_improvement = self.no_improvement + 1 if loss > best_loss - self.tol else 0
            self.best_loss = min(best_loss, loss)
            what = (
                f"Training loss did not improve more than tol={self.tol:f} for {self.n_iter_no_change:.0f} "
                "consecutive epochs."
            )
        else:
            score, best_score = float(self.score(trainer.model)), self.best_score
            if self.scores is None or best_score is None:  # both started by on_train_begin with a score
                raise RuntimeError("the stopping rule was not started: call on_train_begin first")
            self.scores.append(score)
            if self.verbose:
                print(f"Validation score: {score:f}")
            self.no_improvement = self.no_improvement + 1 if score < best_score + self.tol else 0
            if score > best_score:
                self.best_score = score
                self.best_weights = copy.deepcopy(trainer.model.state_dict())
            what = (
                f"Validation score did not improve more than tol={self.tol:f} for {self.n_iter_no_change:.0f} "
                "consecutive epochs."
            )
        if self.no_improvement > self.n_iter_no_change:
            groups = trainer.optimizer.param_groups if self.adaptive else []
            if groups and groups[0]["lr"] > ADAPTIVE_FLOOR:
                for group in groups:
                    group["lr"] /= 5.0
                self.no_improvement = 0
                if self.verbose:
                    print(f"{what} Setting learning rate to {groups[0]['lr']:f}")
                return
            if self.verbose:
                print(f"{what} {'Learning rate too small. ' if self.adaptive else ''}Stopping.")
            self.converged, self.message = True, what
            trainer.stop_training, trainer.stop_reason = True, what

    def on_train_end(self, trainer: Any) -> None:
        """Put back the best-scoring weights (when a score is watched)."""
        # scikit-learn keeps the best-scoring weights whenever it watches a validation score
        if self.best_weights is not None:
            trainer.model.load_state_dict(self.best_weights)

    def state_dict(self) -> dict[str, Any]:
        """The count, the bests and the best weights."""
        return {
            "best_loss": self.best_loss,
            "scores": self.scores,
            "best_score": self.best_score,
            "no_improvement": self.no_improvement,
            "best_weights": self.best_weights,
        }

    def load_state_dict(self, state: dict[str, Any]) -> None:
        """Restore :meth:`state_dict`."""
        self.best_loss, self.scores, self.best_score = state["best_loss"], state["scores"], state["best_score"]
        self.no_improvement, self.best_weights = state["no_improvement"], state["best_weights"]


class InverseScalingRate(Callback):
    """scikit-learn's ``learning_rate="invscaling"``: after each epoch the learning rate becomes
    ``learning_rate_init / (t + 1) ** power_t``, ``t`` the training examples seen so far (``t_``, counted across
    warm-started fits and ``partial_fit`` calls, as scikit-learn's ``SGDOptimizer.iteration_ends(t_)``).

    Args:
        learning_rate_init: the rate of the first epoch.
        power_t: the exponent.
        n_samples: examples per epoch.
        t: examples seen before this fit (the estimator sets it before each fit).
    """

    def __init__(self, *, learning_rate_init: float, power_t: float, n_samples: int, t: int = 0) -> None:
        self.learning_rate_init, self.power_t, self.n_samples, self.t = learning_rate_init, power_t, n_samples, t

    def on_epoch_end(self, trainer: Any, epoch: int, logs: dict[str, float]) -> None:
        """Count the epoch's examples and set the rate for the next epoch."""
        self.t += self.n_samples
        for group in trainer.optimizer.param_groups:
            group["lr"] = float(self.learning_rate_init) / (self.t + 1) ** self.power_t


class IterationLines(Callback):
    """scikit-learn's verbose output of its MLPs: ``Iteration 3, loss = 0.12345678`` after each epoch (the count
    continues over ``partial_fit`` calls through ``start``)."""

    def __init__(self, start: int = 0) -> None:
        self.iteration = start

    def on_epoch_end(self, trainer: Any, epoch: int, logs: dict[str, float]) -> None:
        """Print the epoch's line."""
        self.iteration += 1
        print(f"Iteration {self.iteration}, loss = {logs['loss']:.8f}")
