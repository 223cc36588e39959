"""``lamina.sklearn.MLPRegressor``: scikit-learn's ``MLPRegressor`` interface, trained by lamina on PyTorch."""

from __future__ import annotations

from typing import Any

import numpy as np
import torch
from sklearn.base import RegressorMixin
from sklearn.metrics import r2_score
from sklearn.utils.metaestimators import available_if
from sklearn.utils.validation import column_or_1d, validate_data

from lamina.registry import resolve
from lamina.sklearn.losses import SklearnLoss
from lamina.sklearn.mlp import BaseMLP
from lamina.sklearn.mlp_classifier import _stochastic
from lamina.sklearn.params import store_params

__all__ = ["MLPRegressor"]


class MLPRegressor(RegressorMixin, BaseMLP):
    """Multi-layer perceptron regressor: a linear output layer ``W_L f(... f(W_1 x + b_1) ...) + b_L`` trained on
    the mean squared error (or any lamina loss) by a lamina optimizer, with scikit-learn's ``MLPRegressor``
    interface. Several target columns give a multi-output regressor.

    Parameters
    ----------
    loss : str or dict, default="squared_error"
        ``"squared_error"``, scikit-learn's ``mean((y - t)^2) / 2`` (half lamina's ``mse``); ``"poisson"``,
        scikit-learn's half Poisson deviance with a log link (the network's output is ``log`` of the predicted
        mean, ``predict`` returns its exponential, ``out_activation_ = "exp"``; ``y`` must be >= 0); or any
        lamina loss such as ``"mse"``, ``"huber"`` or ``"mae"`` (these take no ``sample_weight``).
    hidden_layer_sizes, activation, solver, alpha, batch_size, learning_rate, learning_rate_init, power_t, \
max_iter, shuffle, tol, n_iter_no_change, early_stopping, validation_fraction, momentum, nesterovs_momentum, \
beta_1, beta_2, epsilon, warm_start, random_state, verbose, layers, input_shape, init, schedule, device, \
pretrain, max_fun
        As for :class:`~lamina.sklearn.MLPClassifier` (whose Notes list the deliberate differences from
        scikit-learn); with ``early_stopping`` the held-out R^2 is watched (weighted by ``sample_weight``).

    Notes
    -----
    With several target columns, ``"squared_error"`` is the mean over the columns of ``(y - t)^2 / 2`` as
    scikit-learn reports it; scikit-learn's gradient is that of their sum, so its steps on multi-output targets
    are ``n_outputs`` times lamina's at equal learning rates.

    Attributes
    ----------
    module_, module_spec_, loss_, best_loss_, loss_curve_, validation_scores_, best_validation_score_, \
n_iter_, t_, n_features_in_, feature_names_in_
        As for :class:`~lamina.sklearn.MLPClassifier` (the validation score is R^2).
    n_outputs_ : int
        Number of target columns.
    out_activation_ : str
        ``"identity"``, or ``"exp"`` for ``loss="poisson"``.

    References
    ----------
    .. [1] Rumelhart, Hinton & Williams (1986), "Learning representations by back-propagating errors", Nature.

    Examples
    --------
    >>> import numpy as np
    >>> from lamina.sklearn import MLPRegressor
    >>> X = np.linspace(-1, 1, 200)[:, None]
    >>> reg = MLPRegressor(hidden_layer_sizes=(32,), learning_rate_init=0.02, random_state=0).fit(X, X.ravel() ** 2)
    >>> bool(reg.score(X, X.ravel() ** 2) > 0.9)
    True
    """

    def __init__(
        self,
        hidden_layer_sizes: Any = (100,),
        activation: str = "relu",
        *,
        loss: Any = "squared_error",
        solver: Any = "adam",
        alpha: float = 1e-4,
        batch_size: int | str = "auto",
        learning_rate: str = "constant",
        learning_rate_init: float = 1e-3,
        power_t: float = 0.5,
        max_iter: int = 200,
        shuffle: bool = True,
        tol: float = 1e-4,
        n_iter_no_change: int = 10,
        early_stopping: bool = False,
        validation_fraction: float = 0.1,
        momentum: float = 0.9,
        nesterovs_momentum: bool = True,
        beta_1: float = 0.9,
        beta_2: float = 0.999,
        epsilon: float = 1e-8,
        warm_start: bool = False,
        random_state: Any = None,
        verbose: bool = False,
        layers: list | None = None,
        input_shape: tuple | None = None,
        init: str | None = "glorot_uniform",
        schedule: Any = None,
        device: str = "cpu",
        pretrain: Any = None,
        max_fun: int = 15000,
    ) -> None:
        store_params(self, locals())

    @property
    def _loss(self) -> Any:
        name = self._sklearn_loss()
        return SklearnLoss(name) if name is not None else resolve("loss", self.loss, path="loss")

    def _sklearn_loss(self) -> str | None:
        return self.loss if isinstance(self.loss, str) and self.loss in ("squared_error", "poisson") else None

    def _set_outputs(self, y: np.ndarray) -> None:
        """``n_outputs_`` and ``out_activation_`` from the targets (``loss="poisson"`` needs ``y >= 0``)."""
        if self._sklearn_loss() == "poisson" and np.any(y < 0):
            raise ValueError(f"loss='poisson' needs non-negative targets; y holds {float(np.min(y))!r}")
        self.n_outputs_ = 1 if y.ndim == 1 else y.shape[1]
        self.out_activation_ = "exp" if self._sklearn_loss() == "poisson" else "identity"

    def _validate(self, X: Any, y: Any, *, reset: bool) -> tuple[np.ndarray, np.ndarray]:
        X, y = validate_data(
            self,
            X,
            y,
            reset=reset,
            accept_sparse=["csr", "csc", "coo"],
            dtype=(np.float64, np.float32),
            multi_output=True,
            y_numeric=True,
        )
        if y.ndim == 2 and y.shape[1] == 1:
            y = column_or_1d(y, warn=True)
        return (X.toarray() if hasattr(X, "toarray") else X), y

    def _targets(self, y: np.ndarray) -> torch.Tensor:
        y = y.reshape(len(y), -1)
        if y.shape[1] != self.n_outputs_:
            raise ValueError(
                f"y has {y.shape[1]} target columns, but {type(self).__name__} was fitted on {self.n_outputs_}"
            )
        return torch.as_tensor(np.ascontiguousarray(y, dtype=np.float32))  # a copy where y runs backwards

    def _score_outputs(self, outputs: np.ndarray, y: np.ndarray, weights: np.ndarray | None = None) -> float:
        outputs = self._link_inverse(outputs)
        return float(r2_score(y, outputs.ravel() if outputs.shape[1] == 1 else outputs, sample_weight=weights))

    def _link_inverse(self, outputs: np.ndarray) -> np.ndarray:
        return np.exp(outputs) if getattr(self, "out_activation_", "identity") == "exp" else outputs

    def fit(self, X: Any, y: Any, sample_weight: Any = None) -> MLPRegressor:
        """Train on ``X`` (n_samples, n_features) and targets ``y`` (n_samples,) or (n_samples, n_outputs), each
        example's loss weighted by ``sample_weight`` (n_samples,) if given."""
        X, y = self._validate(X, y, reset=True)
        self._set_outputs(y)
        self._fit_mlp(
            X, y, self._targets, self.n_outputs_, incremental=False, stratify=False, sample_weight=sample_weight
        )
        return self

    @available_if(_stochastic)
    def partial_fit(self, X: Any, y: Any, sample_weight: Any = None) -> MLPRegressor:
        """One epoch over ``(X, y)`` (weighted by ``sample_weight``), continuing the optimizer's state."""
        first = not hasattr(self, "module_")
        X, y = self._validate(X, y, reset=first)
        if first:
            self._set_outputs(y)
        self._fit_mlp(
            X, y, self._targets, self.n_outputs_, incremental=True, stratify=False, sample_weight=sample_weight
        )
        return self

    def predict(self, X: Any) -> np.ndarray:
        """Predicted targets, shape (n_samples,) for one target column, else (n_samples, n_outputs)."""
        outputs = self._link_inverse(self._outputs(X).astype(np.float64))
        return outputs.ravel() if outputs.shape[1] == 1 else outputs

    def __sklearn_tags__(self) -> Any:
        tags = super().__sklearn_tags__()
        tags.input_tags.sparse = True
        tags.target_tags.multi_output = True
        return tags
