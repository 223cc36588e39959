"""``lamina.sklearn.NARXForecaster``: a NARX network (:class:`lamina.timeseries.NARX`) as a forecaster with
sktime's convention, ``fit(y, X=None)`` on a series and ``predict(fh, X=None)`` after it, trained by
:class:`lamina.Trainer` on lag windows and run closed-loop."""

from __future__ import annotations

from typing import Any

import numpy as np
from scipy import sparse
from sklearn.metrics import r2_score
from sklearn.utils.validation import check_is_fitted
from torch import nn

from lamina.registry import resolve
from lamina.sklearn.base import LaminaEstimator
from lamina.sklearn.params import check_param, is_int, is_number, resolve_batch_size, store_params
from lamina.timeseries import NARX, SeriesScaler, exogenous_rows_needed, forecast, make_windows
from lamina.timeseries.windows import as_exogenous, as_series

__all__ = ["NARXForecaster"]

SCALINGS = ("standard", "minmax", "none")


def _refuse_sparse_and_complex(values: Any, what: str) -> None:
    """Sparse and complex arrays would otherwise be turned into numbers silently (complex: the real part)."""
    if sparse.issparse(values):
        raise TypeError(
            f"{what}: sparse input is not supported; give a dense array, shape (n_timepoints,)"
            + (" or (n_timepoints, n_variables)" if what == "X" else "")
        )
    if np.iscomplexobj(values):
        raise ValueError(f"Complex data not supported in {what}; give real numbers")


class NARXForecaster(LaminaEstimator):
    """Nonlinear autoregressive forecaster with exogenous inputs:
    ``y(t+1) = F(y(t), ..., y(t-lags+1), u(t+1-delay), ..., u(t+2-delay-exogenous_lags))`` with ``F`` a
    multilayer perceptron (Leontaritis & Billings, 1985; Narendra & Parthasarathy, 1990).

    ``fit(y, X)`` trains ``F`` open-loop (series-parallel: the measured lags are the inputs) by regression on every
    lag window of the scaled series; ``predict(fh, X)`` forecasts the values after the training series
    closed-loop (parallel: each forecast is fed back as the newest lag), with ``X`` the exogenous inputs of the
    forecast period. With ``hidden_layer_sizes=()`` ``F`` is linear: a linear AR(X) model fitted by least squares.

    The series comes first, as in sktime (``y`` is the series, ``X`` optional exogenous variables), so it is no
    drop-in scikit-learn regressor: ``check_estimator``'s ``fit(X, y)`` on a feature matrix does not apply (see
    ``tests/sklearn/test_estimator_checks.py``); ``get_params``, ``set_params``, ``clone``, ``GridSearchCV`` over
    its parameters and pickling work as for any estimator.

    Parameters
    ----------
    lags : int, default=4
        Fed-back lags of the series (the tapped delay line).
    exogenous_lags : int or None, default=None
        Lags of the exogenous inputs; ``None``: ``lags`` when ``X`` is given at fit, else 0.
    delay : {0, 1}, default=1
        1: the newest exogenous lag is ``u(t)``; 0: ``u(t+1)``, the input at the predicted step.
    hidden_layer_sizes : sequence of int, default=(10,)
        Units of each hidden layer of ``F``; ``()`` for a linear model.
    activation : str, default="tanh"
        Of the hidden units (any lamina activation name).
    scale : {"standard", "minmax", "none"}, default="standard"
        Scaling of ``y`` and ``X``, fitted on the training series (forecasts come back in ``y``'s units).
    solver : str or dict, default="adam"
        ``"adam"``, ``"lbfgs"`` (full batch, one iteration per epoch), or any lamina optimizer name or table.
    alpha : float, default=1e-4
        L2 penalty, scaled as :class:`MLPRegressor` scales it.
    learning_rate_init : float, default=1e-3
        The optimizer's learning rate (not L-BFGS's).
    batch_size : int or "auto", default="auto"
        Windows per step; ``"auto"`` is ``min(200, n_windows)``.
    max_iter, tol, n_iter_no_change : int, float, int, default=200, 1e-4, 10
        Epochs, and scikit-learn's stopping rule on the training loss (mean squared one-step error, scaled).
    warm_start, random_state, verbose, device
        As for :class:`MLPClassifier`.

    Attributes
    ----------
    module_ : lamina.timeseries.NARX
        The trained network (inputs and outputs in scaled units); ``module_.window`` says how windows are cut.
    scaler_, exogenous_scaler_ : lamina.timeseries.SeriesScaler
        The scalings of ``y`` and of ``X`` (``None`` without ``X``).
    n_exogenous_ : int
        Exogenous variables per time step (0: a NAR model).
    y_history_, X_history_ : ndarray
        The end of the training series (and its exogenous inputs) that the first forecast's delay line reads.
    loss_curve_, n_iter_, t_
        As for :class:`MLPRegressor`.

    References
    ----------
    .. [1] Leontaritis & Billings (1985), "Input-output parametric models for non-linear systems", Int. J.
       Control 41.
    .. [2] Narendra & Parthasarathy (1990), "Identification and control of dynamical systems using neural
       networks", IEEE Trans. Neural Networks 1.
    .. [3] Lin, Horne, Tino & Giles (1996), "Learning long-term dependencies in NARX recurrent neural networks",
       IEEE Trans. Neural Networks 7.

    Examples
    --------
    >>> import numpy as np
    >>> from lamina.sklearn import NARXForecaster
    >>> y = np.sin(np.arange(300) * 2 * np.pi / 25)
    >>> model = NARXForecaster(lags=6, learning_rate_init=0.01, random_state=0).fit(y[:250])
    >>> bool(model.score(y[250:]) > 0.9)    # R^2 of the 50-step closed-loop forecast
    True
    """

    n_exogenous_: int  # a fitted attribute's type (declared only: scikit-learn wants none before fit)

    def __init__(
        self,
        lags: int = 4,
        *,
        exogenous_lags: int | None = None,
        delay: int = 1,
        hidden_layer_sizes: Any = (10,),
        activation: str = "tanh",
        scale: str = "standard",
        solver: Any = "adam",
        alpha: float = 1e-4,
        learning_rate_init: float = 1e-3,
        batch_size: int | str = "auto",
        max_iter: int = 200,
        tol: float = 1e-4,
        n_iter_no_change: int = 10,
        warm_start: bool = False,
        random_state: Any = None,
        verbose: bool = False,
        device: str = "cpu",
    ) -> None:
        store_params(self, locals())

    def _check_params(self, has_exogenous: bool) -> int:
        """Validate the parameters; return the exogenous lags to use."""
        for name in ("lags", "max_iter", "n_iter_no_change"):
            value = getattr(self, name)
            check_param(is_int(value) and value >= 1, name, "a positive integer", value)
        check_param(is_int(self.delay) and self.delay in (0, 1), "delay", "0 or 1", self.delay)
        check_param(self.scale in SCALINGS, "scale", f"one of {', '.join(map(repr, SCALINGS))}", self.scale)
        for name in ("alpha", "tol"):
            check_param(
                is_number(getattr(self, name)) and getattr(self, name) >= 0, name, "a number >= 0", getattr(self, name)
            )
        check_param(
            is_number(self.learning_rate_init) and self.learning_rate_init > 0,
            "learning_rate_init",
            "a number > 0",
            self.learning_rate_init,
        )
        sizes = self.hidden_layer_sizes
        check_param(
            hasattr(sizes, "__iter__") and all(is_int(h) and h > 0 for h in sizes),
            "hidden_layer_sizes",
            "a sequence of positive integers (empty for a linear model)",
            sizes,
        )
        lags = self.exogenous_lags if self.exogenous_lags is not None else (self.lags if has_exogenous else 0)
        check_param(is_int(lags) and lags >= 0, "exogenous_lags", "an integer >= 0 or None", self.exogenous_lags)
        if has_exogenous and lags == 0:
            raise ValueError(
                "X (exogenous inputs) was given but `exogenous_lags` is 0; give their number of lags or leave X out"
            )
        if lags and not has_exogenous:
            raise ValueError(f"`exogenous_lags` is {lags} but no X (exogenous inputs) was given to fit")
        return lags

    # -- the network --------------------------------------------------------------------------------------

    def _module_spec(self, n_features: int, n_outputs: int | None) -> dict[str, Any]:
        """The NARX constructor's arguments."""
        return {
            "output_lags": int(self.lags),
            "exogenous_lags": self.exogenous_lags_,
            "exogenous_features": max(self.n_exogenous_, 1),
            "hidden": [int(h) for h in self.hidden_layer_sizes],
            "delay": int(self.delay),
            "activation": self.activation,
        }

    @classmethod
    def _module_from_spec(cls, spec: dict[str, Any]) -> nn.Module:
        options = dict(spec)
        return NARX(options.pop("output_lags"), **options)

    def _trainer_options(self, n_samples: int) -> dict[str, Any]:
        if self.solver in ("lbfgs", "l-bfgs"):
            # one L-BFGS iteration per epoch, as scikit-learn counts; a line search, as scipy's L-BFGS-B does
            table: Any = {"type": "lbfgs", "max_iter": 1, "line_search_fn": "strong_wolfe"}
        elif isinstance(self.solver, str):
            table = {"type": self.solver, "lr": self.learning_rate_init}
        else:
            table = self.solver
        optimizer = resolve("optimizer", table, path="solver")
        batch_size = n_samples if optimizer.needs_closure else resolve_batch_size(self.batch_size, n_samples)
        return {
            "loss": "mse",
            "optimizer": optimizer,
            "batch_size": batch_size,
            "l2": self.alpha / batch_size,
            "metrics": [],
        }

    # -- the estimator API --------------------------------------------------------------------------------

    def fit(self, y: Any, X: Any = None) -> NARXForecaster:
        """Train on the series ``y`` (n_timepoints,) and, if given, its exogenous inputs ``X``
        (n_timepoints,) or (n_timepoints, n_variables), aligned with ``y``."""
        exogenous_lags = self._check_params(X is not None)
        for values, what in ((y, "y"), (X, "X")):
            _refuse_sparse_and_complex(values, what)
        y = as_series(y, "y")
        u = None if X is None else as_exogenous(X, "X")
        if u is not None and len(u) != len(y):
            raise ValueError(f"X has {len(u)} time steps and y {len(y)}; they must be aligned")
        n_exogenous = 0 if u is None else u.shape[1]
        # a warm start keeps the scalings (and the network) only for data of the same layout; other exogenous
        # inputs need their own scaling (the network is rebuilt too: its module_spec_ differs)
        keep = self.warm_start and hasattr(self, "module_") and self.n_exogenous_ == n_exogenous
        if not keep:
            self.scaler_ = SeriesScaler(self.scale).fit(y)
            self.exogenous_scaler_ = None if u is None else SeriesScaler(self.scale).fit(u)
        self.exogenous_lags_, self.n_exogenous_ = exogenous_lags, n_exogenous
        exogenous = None if u is None or self.exogenous_scaler_ is None else self.exogenous_scaler_.transform(u)
        windows = make_windows(
            self.scaler_.transform(y),
            self.lags,
            delay=self.delay,
            exogenous=exogenous,
            exogenous_lags=exogenous_lags if u is not None else None,
        )
        self._train(windows.inputs.numpy(), windows.targets, n_outputs=1, incremental=False)
        tail = windows.spec.first + 1  # the delay line of the first forecast
        self.y_history_ = y[-tail:]
        self.X_history_ = None if u is None else u[-tail:]
        return self

    def predict(self, fh: Any = None, X: Any = None) -> np.ndarray:
        """The closed-loop forecast of the steps ``fh`` after the training series: an int ``h`` (steps 1..h) or
        a sequence of steps (1-based); default ``len(X)``. ``X``: the exogenous inputs from the first forecast
        step on (as many rows as ``fh`` needs). Returns shape (len(steps),), in ``y``'s units."""
        check_is_fitted(self, "module_")
        steps = self._steps(fh, X)
        horizon = int(steps.max())
        future = None
        if X is not None and not self.n_exogenous_:
            raise ValueError(f"{type(self).__name__} was fitted without exogenous inputs; X must be None")
        if self.n_exogenous_:
            need = exogenous_rows_needed(self.module_.window, horizon)
            if X is None:
                raise ValueError(
                    f"{type(self).__name__} was fitted with {self.n_exogenous_} exogenous variable(s): "
                    f"a forecast of {horizon} steps needs their next {need} values, X"
                )
            _refuse_sparse_and_complex(X, "X")
            future = as_exogenous(X, "X")
            if future.shape[1] != self.n_exogenous_:
                raise ValueError(
                    f"X has {future.shape[1]} exogenous variables, but {type(self).__name__} was "
                    f"fitted with {self.n_exogenous_}"
                )
        path = forecast(
            self.module_,
            self.y_history_,
            horizon,
            exogenous=self.X_history_,
            future_exogenous=future,
            scaler=self.scaler_,
            exogenous_scaler=self.exogenous_scaler_,
        )
        return path[steps - 1]

    def _steps(self, fh: Any, X: Any) -> np.ndarray:
        if fh is None:
            if X is None:
                raise ValueError(
                    "give the forecast horizon fh (an int, or the 1-based steps) or the exogenous "
                    "inputs X of the forecast period"
                )
            fh = len(X)
        if is_int(fh):
            check_param(fh >= 1, "fh", "a positive integer or a sequence of them", fh)
            return np.arange(1, int(fh) + 1)
        steps = np.asarray(fh)
        check_param(
            steps.ndim == 1 and steps.size > 0 and np.issubdtype(steps.dtype, np.integer) and bool((steps >= 1).all()),
            "fh",
            "a positive integer or a sequence of them",
            fh,
        )
        return steps.astype(np.int64)

    def score(self, y: Any, X: Any = None) -> float:
        """R^2 of the closed-loop forecast of ``len(y)`` steps against ``y``, the series after the training one
        (``X``: its exogenous inputs)."""
        _refuse_sparse_and_complex(y, "y")
        y = as_series(y, "y")
        return float(r2_score(y, self.predict(len(y), X)))

    def __sklearn_tags__(self) -> Any:
        tags = super().__sklearn_tags__()
        tags.target_tags.required = True
        return tags
