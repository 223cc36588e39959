"""scikit-learn's MLP semantics that lamina's MLPs keep (issue 23), each checked against scikit-learn itself where
it computes a number: L-BFGS as one full-batch run of ``max_iter`` iterations and ``max_fun`` evaluations, the
stopping rule switched off by ``n_iter_no_change=np.inf``, ``n_iter_`` per fit, and the errors scikit-learn raises."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from sklearn.datasets import load_digits, make_regression
from sklearn.exceptions import ConvergenceWarning
from sklearn.neural_network import MLPClassifier as SkMLPClassifier
from sklearn.neural_network import MLPRegressor as SkMLPRegressor
from sklearn.preprocessing import MinMaxScaler

from lamina.errors import TrainingDivergedError
from lamina.sklearn import MLPClassifier, MLPRegressor
from lamina.sklearn.base import EstimatorDivergedError


@pytest.fixture(scope="module")
def digits3():
    X, y = load_digits(n_class=3, return_X_y=True)
    return MinMaxScaler().fit_transform(X)[:200], y[:200]


def test_lbfgs_classifier_fits_three_digits_as_sklearn_does(digits3):
    X, y = digits3
    params = {"solver": "lbfgs", "hidden_layer_sizes": 50, "max_iter": 150, "random_state": 1}
    oracle = SkMLPClassifier(**params).fit(X, y)
    clf = MLPClassifier(**params).fit(X, y)
    assert oracle.score(X, y) == 1.0 and clf.score(X, y) == 1.0  # was 0.84: one L-BFGS step per epoch
    assert 1 <= clf.n_iter_ < 150  # converged (gradient below tol) well before max_iter, as scikit-learn does
    assert clf.loss_ < 0.01


def test_lbfgs_learns_multi_output_regression_as_sklearn_does():
    X, y = make_regression(n_samples=100, n_features=10, n_targets=3, random_state=0)
    params = {"solver": "lbfgs", "hidden_layer_sizes": 30, "max_iter": 200, "random_state": 1}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        oracle = SkMLPRegressor(**params).fit(X, y)
        reg = MLPRegressor(**params).fit(X, y)
    assert oracle.score(X, y) > 0.99
    assert reg.score(X, y) > 0.99  # was R^2 -0.004


def test_lbfgs_max_iter_and_max_fun_bound_the_run(digits3):
    X, y = digits3
    with pytest.warns(ConvergenceWarning, match="max_iter"):
        clf = MLPClassifier(solver="lbfgs", hidden_layer_sizes=20, max_iter=3, random_state=0).fit(X, y)
    assert clf.n_iter_ == 3
    with pytest.warns(ConvergenceWarning, match="max_fun"):
        clf = MLPClassifier(solver="lbfgs", hidden_layer_sizes=20, max_fun=4, random_state=0).fit(X, y)
    assert clf.n_iter_ < 4


def test_n_iter_no_change_inf_switches_the_rule_off(digits3):
    X, y = digits3
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        clf = MLPClassifier(hidden_layer_sizes=8, max_iter=30, tol=10.0, n_iter_no_change=np.inf, random_state=0).fit(
            X, y
        )
    assert clf.n_iter_ == 30
    with warnings.catch_warnings():  # the rule on: both libraries stop after the first epoch plus 11 without a gain
        warnings.simplefilter("ignore", ConvergenceWarning)
        params = {"hidden_layer_sizes": 8, "max_iter": 30, "tol": 10.0, "random_state": 0}
        assert MLPClassifier(**params).fit(X, y).n_iter_ == SkMLPClassifier(**params).fit(X, y).n_iter_ == 12


def test_warm_start_n_iter_counts_one_fit(digits3):
    X, y = digits3
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        clf = MLPClassifier(hidden_layer_sizes=8, max_iter=3, warm_start=True, random_state=0).fit(X, y)
        assert clf.fit(X, y).n_iter_ == 3


def test_partial_fit_refuses_early_stopping(digits3):
    X, y = digits3
    with pytest.raises(ValueError, match="partial_fit does not support early_stopping=True"):
        MLPClassifier(early_stopping=True).partial_fit(X, y, classes=np.unique(y))


def test_validation_set_too_small_is_named():
    X, y = np.random.RandomState(0).randn(10, 3), np.arange(10.0)
    for cls in (MLPRegressor, SkMLPRegressor):  # scikit-learn's own says the same
        with pytest.raises(ValueError, match="The validation set is too small"):
            cls(early_stopping=True, max_iter=2).fit(X, y)


def test_values_beyond_float32_are_an_input_error():
    X = np.full((20, 2), 1e308)
    y = np.arange(20) % 2
    with pytest.raises(ValueError, match=r"too large for dtype\('float32'\)"):
        MLPRegressor(max_iter=1).fit(X, y.astype(float))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        clf = MLPClassifier(hidden_layer_sizes=4, max_iter=1).fit(np.ones((20, 2)), y)
    with pytest.raises(ValueError, match="too large"):
        clf.predict(X)


def test_divergence_is_a_value_error():
    assert issubclass(EstimatorDivergedError, ValueError) and issubclass(EstimatorDivergedError, TrainingDivergedError)
    X = np.random.RandomState(0).randn(40, 3) * 1e18
    with pytest.raises(ValueError, match="(?i)diverg|nan|inf"):
        MLPRegressor(solver="sgd", learning_rate_init=10.0, max_iter=5).fit(X, X[:, 0] ** 2)
