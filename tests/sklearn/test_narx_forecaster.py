"""NARXForecaster against closed forms: a linear AR(2) model fitted to convergence is ordinary least squares on the
lag matrix (its closed-loop forecast is the OLS recursion's, and near the true process's), a sine is forecast
closed-loop, exogenous inputs are used; the steps of ``fh``, pickling, and bad input."""

from __future__ import annotations

import pickle
import re

import numpy as np
import pytest
from sklearn.base import clone
from sklearn.exceptions import NotFittedError

from lamina.errors import DataError
from lamina.sklearn import NARXForecaster

pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")

A1, A2 = 1.5, -0.75  # a stationary AR(2): roots of z^2 - 1.5 z + 0.75 have modulus sqrt(0.75) < 1


@pytest.fixture(scope="module")
def ar2():
    rng = np.random.RandomState(0)
    y = np.zeros(600)
    for t in range(2, len(y)):
        y[t] = A1 * y[t - 1] + A2 * y[t - 2] + rng.randn()
    return y


def _recursion(history: np.ndarray, a1: float, a2: float, c: float, steps: int) -> np.ndarray:
    """The closed-loop forecast of ``y(t) = a1 y(t-1) + a2 y(t-2) + c``."""
    path = list(history[-2:])
    for _ in range(steps):
        path.append(a1 * path[-1] + a2 * path[-2] + c)
    return np.array(path[2:])


def test_a_linear_narx_is_least_squares_ar2(ar2):
    train = ar2[:500]
    model = NARXForecaster(lags=2, hidden_layer_sizes=(), solver="lbfgs", alpha=0.0, max_iter=100, random_state=0).fit(
        train
    )
    assert model.n_iter_ < 100  # converged by scikit-learn's rule
    lag_matrix = np.column_stack([train[1:-1], train[:-2], np.ones(len(train) - 2)])
    a1, a2, c = np.linalg.lstsq(lag_matrix, train[2:], rcond=None)[0]
    forecast = model.predict(20)
    np.testing.assert_allclose(forecast, _recursion(train, a1, a2, c, 20), atol=1e-3 * train.std())
    # and near the forecast of the true process (OLS is a consistent estimator of its coefficients)
    np.testing.assert_allclose(forecast, _recursion(train, A1, A2, 0.0, 20), atol=0.1 * train.std())


def test_forecasts_a_sine_closed_loop():
    y = np.sin(np.arange(400) * 2 * np.pi / 25)
    model = NARXForecaster(lags=6, learning_rate_init=0.01, random_state=0).fit(y[:300])
    assert model.score(y[300:]) > 0.95  # R^2 over 100 steps, four periods, each forecast fed back


def test_uses_the_exogenous_inputs():
    rng = np.random.RandomState(0)
    u = rng.randn(600)
    y = np.zeros(600)
    for t in range(1, 600):
        y[t] = 0.5 * y[t - 1] + np.tanh(u[t - 1])  # driven by u(t-1): delay 1
    narx = NARXForecaster(lags=2, learning_rate_init=0.01, random_state=0).fit(y[:500], u[:500])
    assert narx.n_exogenous_ == 1 and narx.module_.exogenous_lags == 2
    assert narx.score(y[500:], u[500:]) > 0.95
    nar = NARXForecaster(lags=2, learning_rate_init=0.01, random_state=0).fit(y[:500])
    assert nar.score(y[500:]) < 0.2  # without u the series is noise beyond a step or two
    with pytest.raises(ValueError, match="fitted with 1 exogenous variable.*needs their next 9 values, X"):
        narx.predict(10)
    with pytest.raises(ValueError, match="X has 2 exogenous variables, but NARXForecaster was fitted with 1"):
        narx.predict(3, np.zeros((3, 2)))


def test_warm_start_with_other_exogenous_inputs_rescales(ar2):
    """A warm start onto data with exogenous inputs the last fit lacked (or the reverse) fits their scaling and a
    new network; it used to reuse the missing scaler and fail with AttributeError."""
    y, u = ar2[:200], np.cos(np.arange(200) / 7)
    model = NARXForecaster(lags=3, max_iter=2, warm_start=True, random_state=0).fit(y)
    model.fit(y, u)
    assert model.n_exogenous_ == 1 and model.exogenous_scaler_ is not None
    assert np.isfinite(model.predict(3, X=np.cos(np.arange(200, 203) / 7))).all()
    model.fit(y)
    assert model.n_exogenous_ == 0 and model.exogenous_scaler_ is None and np.isfinite(model.predict(3)).all()


def test_steps_pickle_and_clone(ar2):
    model = NARXForecaster(lags=3, max_iter=20, random_state=0).fit(ar2[:300])
    path = model.predict(10)
    np.testing.assert_array_equal(model.predict([1, 5, 10]), path[[0, 4, 9]])
    copy = pickle.loads(pickle.dumps(model))
    np.testing.assert_array_equal(copy.predict(10), path)
    assert clone(model).get_params() == model.get_params() and not hasattr(clone(model), "module_")


def test_bad_input_is_named(ar2):
    with pytest.raises(NotFittedError):
        NARXForecaster().predict(3)
    y = ar2[:100].copy()
    y[40] = np.nan
    with pytest.raises(DataError, match="y holds 1 NaN or infinite value"):
        NARXForecaster().fit(y)
    with pytest.raises(ValueError, match="Complex data not supported in y"):
        NARXForecaster().fit(ar2[:100] + 1j)
    with pytest.raises(ValueError, match=re.escape("`lags` must be a positive integer, got 0")):
        NARXForecaster(lags=0).fit(ar2[:100])
    with pytest.raises(ValueError, match="X has 99 time steps and y 100"):
        NARXForecaster().fit(ar2[:100], ar2[:99])
    model = NARXForecaster(lags=2, max_iter=1, random_state=0).fit(ar2[:100])
    with pytest.raises(ValueError, match=re.escape("`fh` must be a positive integer or a sequence of them, got 0")):
        model.predict(0)
    with pytest.raises(ValueError, match="give the forecast horizon fh"):
        model.predict()
    with pytest.raises(ValueError, match="fitted without exogenous inputs; X must be None"):
        model.predict(3, np.zeros(3))
