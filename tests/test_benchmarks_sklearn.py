"""The scikit-learn parity benchmarks (``benchmarks.sklearn_solvers``, ``benchmarks.sklearn_rbm``) run their core
functions on tiny settings, so the scripts cannot rot; the figures they report are checked against scikit-learn and
lamina computing the same thing independently."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.neural_network import BernoulliRBM
from sklearn.neural_network import MLPClassifier as SkMLPClassifier
from sklearn.neural_network import MLPRegressor as SkMLPRegressor

from benchmarks import sklearn_rbm, sklearn_solvers
from lamina.sklearn import RBMTransformer


@pytest.fixture(scope="module")
def digits():
    data = sklearn_solvers.load("digits")
    return {**data, "X": data["X"][:200], "y": data["y"][:200], "X_test": data["X_test"][:100]} | {
        "y_test": data["y_test"][:100]
    }


@pytest.mark.parametrize("solver", sklearn_solvers.SOLVERS)
def test_solver_cell_reports_scikit_learns_own_score(digits, solver):
    cell = sklearn_solvers.compare(digits, solver, seeds=[0, 1], max_iter=2)
    params = {**sklearn_solvers.settings(solver, 2), "random_state": 1}
    with pytest.warns(Warning):  # ConvergenceWarning after 2 iterations
        want = SkMLPClassifier(**params).fit(digits["X"], digits["y"]).score(digits["X_test"], digits["y_test"])
    assert cell["runs"]["sklearn"][1]["score"] == pytest.approx(want)
    lam = cell["lamina"]["score_points"]
    assert 0 <= lam["min"] <= lam["mean"] <= lam["max"] <= 100
    assert cell["difference_points"] == pytest.approx(lam["mean"] - cell["sklearn"]["score_points"]["mean"])
    assert cell["lamina"]["n_iter"]["max"] <= 2 and cell["fit_time_ratio"] > 0


def test_regression_data_and_cell():
    data = sklearn_solvers.load("regression")
    assert data["task"] == "regression" and data["X"].shape == (1500, 20) and data["X_test"].shape == (500, 20)
    assert data["y"].std() == pytest.approx(1.0)  # divided by its training standard deviation
    small = {**data, "X": data["X"][:200], "y": data["y"][:200]}
    cell = sklearn_solvers.compare(small, "lbfgs", seeds=[0], max_iter=5)
    params = {**sklearn_solvers.settings("lbfgs", 5), "random_state": 0}
    with pytest.warns(Warning):
        want = SkMLPRegressor(**params).fit(small["X"], small["y"]).score(data["X_test"], data["y_test"])
    assert cell["sklearn"]["score_points"]["mean"] == pytest.approx(100 * want)


def test_pseudo_likelihoods_agree_with_both_libraries():
    X_train, X_test = sklearn_rbm.load_digits_01("binary")
    assert set(np.unique(X_train)) == {0.0, 1.0} and len(X_train) + len(X_test) == 1797
    X = X_train[:120]
    sk = BernoulliRBM(n_components=8, n_iter=2, learning_rate=0.06, random_state=sklearn_rbm.SCORER_SEED).fit(X)
    # scikit-learn's own estimate, drawn with the scorer's random_state, from the copied weights
    assert sklearn_rbm.sklearn_pseudo_likelihood(sklearn_rbm._weights(sk), X) == pytest.approx(
        sk.score_samples(X).mean(), rel=1e-6
    )
    # the all-terms NumPy estimate is lamina's score (torch), and the expectation of scikit-learn's
    lam = RBMTransformer(n_components=8, n_iter=2, learning_rate=0.06, random_state=0).fit(X)
    assert sklearn_rbm.exact_pseudo_likelihood(sklearn_rbm._weights(lam), X) == pytest.approx(lam.score(X), rel=1e-5)
    draws = [sklearn_rbm.sklearn_pseudo_likelihood(sklearn_rbm._weights(sk), X, seed) for seed in range(40)]
    exact = sklearn_rbm.exact_pseudo_likelihood(sklearn_rbm._weights(sk), X)
    assert abs(np.mean(draws) - exact) < 4 * np.std(draws) / np.sqrt(len(draws))


def test_rbm_compare_runs_every_variant():
    X_train, X_test = sklearn_rbm.load_digits_01("grey")
    result = sklearn_rbm.compare(
        X_train[:60], X_test[:20], seeds=[0, 1], settings={"n_components": 6, "n_iter": 1, "batch_size": 10}
    )
    assert set(sklearn_rbm.VARIANTS) <= set(result) and result["fit_time_ratio"] > 0
    for name in sklearn_rbm.VARIANTS:
        assert len(result["runs"][name]) == 2
        assert result[name]["exact_train"]["max"] < 0  # a log-probability summed over 64 units
    assert result["lamina"]["lamina_score_test"]["mean"] == pytest.approx(result["lamina"]["exact_test"]["mean"])
    assert set(result["within_spread"]) == {
        f"{n}/{k}"
        for n in ("lamina", "lamina_sampled")
        for k in ("sklearn_train", "sklearn_test", "exact_train", "exact_test")
    }
