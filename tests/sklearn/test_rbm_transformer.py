"""RBMTransformer against scikit-learn's BernoulliRBM (the oracle: same data, same settings; the same weights give
the same features and pseudo-likelihood terms), Gaussian visible units, pickling, and bad input."""

from __future__ import annotations

import pickle
import re
import warnings

import numpy as np
import pytest
import torch
from sklearn.datasets import load_digits
from sklearn.exceptions import NotFittedError
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import train_test_split
from sklearn.neural_network import BernoulliRBM
from sklearn.preprocessing import StandardScaler

from lamina.errors import DataError
from lamina.sklearn import RBMTransformer

SETTINGS = dict(n_components=64, learning_rate=0.06, n_iter=10, batch_size=10, random_state=0)


@pytest.fixture(scope="module")
def digits():
    X, y = load_digits(return_X_y=True)
    return train_test_split(X / 16.0, y, test_size=0.3, random_state=0)


@pytest.fixture(scope="module")
def fitted(digits):
    """Ours and scikit-learn's RBM trained alike (PCD-1, plain SGD, the same schedule) on the same data."""
    X, _, _, _ = digits
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # n_iter epochs and no stopping rule, as scikit-learn's: no warning either
        ours = RBMTransformer(**SETTINGS).fit(X)
    return ours, BernoulliRBM(**SETTINGS).fit(X)


def test_as_good_as_sklearns_rbm_on_digits(digits, fitted):
    """Loose but able to fail: the pseudo-likelihood of held-out digits, and the accuracy of a logistic regression
    on the hidden probabilities, at least those of scikit-learn's RBM (measured: -19.0 against -21.4 nats, 0.91
    against 0.82; an RBM trained one epoch on ten digits scores -38 nats and 0.50)."""
    X, X_test, y, y_test = digits
    ours, sk = fitted
    assert ours.score_samples(X_test).mean() > sk.score_samples(X_test).mean() - 1.0  # nats per digit
    accuracy = {}
    for name, rbm in (("ours", ours), ("sklearn", sk)):
        probe = LogisticRegression(max_iter=1000).fit(rbm.transform(X), y)
        accuracy[name] = probe.score(rbm.transform(X_test), y_test)
    assert accuracy["ours"] > 0.88 and accuracy["ours"] > accuracy["sklearn"] - 0.02, accuracy
    assert ours.n_iter_ == 10 and len(ours.loss_curve_) == 10


def test_same_weights_give_sklearns_features_and_pseudo_likelihood_terms(digits, fitted):
    X, X_test, _, _ = digits
    ours, sk = fitted
    sk.components_, sk.intercept_hidden_, sk.intercept_visible_ = (
        ours.components_.astype(np.float64),
        ours.intercept_hidden_.astype(np.float64),
        ours.intercept_visible_.astype(np.float64),
    )
    np.testing.assert_allclose(ours.transform(X_test), sk.transform(X_test), rtol=1e-10, atol=1e-12)
    # scikit-learn samples one term of the pseudo-likelihood per row; ours sums all of them: rebuild that sum from
    # scikit-learn's own free energy, flipping each unit in turn
    free_energy = sk._free_energy(X_test)
    oracle = np.zeros(len(X_test))
    for i in range(X_test.shape[1]):
        flipped = X_test.copy()
        flipped[:, i] = 1 - flipped[:, i]
        oracle -= np.logaddexp(0, -(sk._free_energy(flipped) - free_energy))  # log sigmoid(F(v~) - F(v))
    np.testing.assert_allclose(ours.score_samples(X_test), oracle, rtol=1e-9)
    assert ours.score(X_test) == pytest.approx(oracle.mean())
    assert ours.components_.shape == (64, 64) and ours.get_feature_names_out()[0] == "rbmtransformer0"


def test_options_reach_the_rbm(digits):
    X, _, _, _ = digits
    rbm = RBMTransformer(n_components=8, k=3, persistent=False, n_iter=1, random_state=0).fit(X[:100])
    assert rbm.module_.k == 3 and rbm.module_.persistent_chain is None
    rbm = RBMTransformer(n_components=8, batch_size=20, n_iter=1, random_state=0).fit(X[:100])
    assert rbm.module_.persistent_chain.shape == (20, 64)  # scikit-learn's: one persistent chain per batch row


def test_gaussian_visible_units_on_standardised_data(digits):
    X, X_test, _, _ = digits
    scaler = StandardScaler().fit(X)
    Z, Z_test = scaler.transform(X), scaler.transform(X_test)
    options = dict(n_components=32, visible="gaussian", learning_rate=0.005, random_state=0)
    untrained = RBMTransformer(n_iter=1, **options).fit(Z[:10])
    trained = RBMTransformer(n_iter=10, **options).fit(Z)
    assert type(trained.module_).__name__ == "GaussianBernoulliRBM"
    # score: minus the squared reconstruction error; the Gaussian likelihood would need the partition function
    assert trained.score(Z_test) > untrained.score(Z_test) + 10  # measured: -42 against -66
    assert not hasattr(trained, "score_samples")


def test_bernoulli_units_refuse_data_outside_the_unit_interval(digits):
    X, _, _, _ = digits
    with pytest.raises(
        DataError,
        match=r"Values above 1 in data passed to RBMTransformer\(visible='bernoulli'\).*"
        r"\[0, 16\].*MinMaxScaler.*visible='gaussian'",
    ):
        RBMTransformer(n_iter=1).fit(X * 16)
    with pytest.raises(DataError, match="Negative values in data"):
        RBMTransformer(n_iter=1).fit(X - 0.5)


def test_pickle_and_partial_fit_continue_identically(digits):
    X, X_test, _, _ = digits
    rbm = RBMTransformer(n_components=16, random_state=0).partial_fit(X)
    copy = pickle.loads(pickle.dumps(rbm))
    np.testing.assert_array_equal(copy.transform(X_test), rbm.transform(X_test))
    np.testing.assert_array_equal(copy.score_samples(X_test), rbm.score_samples(X_test))
    # the persistent chains and the random stream travel with it: one more epoch each lands on the same weights
    rbm.partial_fit(X)
    copy.partial_fit(X)
    np.testing.assert_allclose(copy.components_, rbm.components_, atol=1e-6)
    assert copy.n_iter_ == rbm.n_iter_ == 2


def test_not_fitted_wrong_width_and_bad_parameters(digits):
    X, _, _, _ = digits
    with pytest.raises(NotFittedError):
        RBMTransformer().transform(X)
    rbm = RBMTransformer(n_components=4, n_iter=1, random_state=0).fit(X[:50])
    with pytest.raises(ValueError, match="X has 10 features, but RBMTransformer is expecting 64 features"):
        rbm.transform(np.zeros((2, 10)))
    with pytest.raises(ValueError, match=re.escape("`n_components` must be a positive integer, got 0")):
        RBMTransformer(n_components=0).fit(X)
    with pytest.raises(
        ValueError,
        match=re.escape("`visible` must be one of 'bernoulli', 'gaussian', got 'gausian'; did you mean 'gaussian'?"),
    ):
        RBMTransformer(visible="gausian").fit(X)


def test_gaussian_units_standardise_the_data_themselves():
    """Defaults on unscaled features (offsets of 1e4, spreads of 1e3) learn what they learn on standardised ones:
    the RBM standardises with the statistics of fit (``mean_``, ``scale_``); before, this diverged."""
    rng = np.random.RandomState(0)
    Z = rng.randn(60, 5)
    X = Z * np.array([1e3, 1.0, 50.0, 1e-3, 7.0]) + 1e4
    raw = RBMTransformer(n_components=8, visible="gaussian", n_iter=3, random_state=0).fit(X)
    scaled = RBMTransformer(n_components=8, visible="gaussian", n_iter=3, random_state=0).fit(
        StandardScaler().fit_transform(X)
    )
    np.testing.assert_allclose(raw.mean_, X.mean(axis=0))
    np.testing.assert_allclose(raw.transform(X), scaled.transform(StandardScaler().fit_transform(X)), atol=1e-4)
    assert (
        RBMTransformer().learning_rate == "auto"
        and RBMTransformer(visible="bernoulli").fit(np.clip(Z, 0, 1)).mean_ is None
    )


def test_gibbs_draws_one_step_from_the_model_and_anew_each_call(digits):
    X = digits[0][:300]
    rbm = RBMTransformer(n_components=8, n_iter=1, random_state=0).fit(X)
    with torch.no_grad():  # a model whose step is known: no weights, p(v_i = 1) = sigmoid(b_i) whatever v is
        rbm.module_.weight.zero_()
        rbm.module_.visible_bias.copy_(torch.linspace(-2.0, 2.0, 64))
    many = np.vstack([rbm.gibbs(X) for _ in range(20)])  # 6,000 draws per unit
    assert set(np.unique(many)) <= {0.0, 1.0} and many.dtype == X.dtype
    expected = 1 / (1 + np.exp(-np.linspace(-2.0, 2.0, 64)))
    np.testing.assert_allclose(many.mean(axis=0), expected, atol=4 * np.sqrt(0.25 / len(many)))
    assert not np.array_equal(rbm.gibbs(X), rbm.gibbs(X))


def test_verbose_line_reports_the_pseudo_likelihood_as_sklearn_formats_it(digits, capsys):
    X = digits[0][:200]
    rbm = RBMTransformer(n_components=8, n_iter=1, verbose=True, random_state=0).fit(X)
    after_fit = rbm.score(X)
    rbm.partial_fit(X)
    lines = [re.sub(r"time = \d+\.\d\ds$", "time = Ts", line) for line in capsys.readouterr().out.splitlines()]
    assert lines == [
        f"[RBMTransformer] Iteration 1, pseudo-likelihood = {after_fit:.2f}, time = Ts",
        f"[RBMTransformer] Iteration 2, pseudo-likelihood = {rbm.score(X):.2f}, time = Ts",
    ]


def test_sampled_negative_phase_trains_as_sklearn_trains(digits, fitted):
    """reconstruction="samples" is scikit-learn's PCD step: the held-out pseudo-likelihood lands within the spread
    of scikit-learn's own over seeds (measured: -21.5 against -21.4); the default mean field reaches more (-19.2)."""
    X, X_test, _, _ = digits
    theirs = [BernoulliRBM(**{**SETTINGS, "random_state": s}).fit(X).score_samples(X_test).mean() for s in range(3)]
    ours = RBMTransformer(reconstruction="samples", **SETTINGS).fit(X).score_samples(X_test).mean()
    spread = max(theirs) - min(theirs)
    assert min(theirs) - spread - 0.3 < ours < max(theirs) + spread + 0.3, (ours, theirs)
    mean_field = fitted[0].score_samples(X_test).mean()
    assert mean_field > max(theirs) + 1.0, (mean_field, theirs)
    with pytest.raises(ValueError, match="`reconstruction` must be 'probabilities' or 'samples'"):
        RBMTransformer(reconstruction="mean").fit(X)
