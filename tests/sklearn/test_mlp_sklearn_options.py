"""scikit-learn MLP options lamina's MLPs take (issue 23), each against scikit-learn's own code as the oracle:
``learning_rate="invscaling"``/``"adaptive"`` (scikit-learn's ``SGDOptimizer`` and stopping loop),
``sample_weight`` (scikit-learn's loss functions; integer weights equal repeated rows), ``loss="poisson"``,
``shuffle=False``, the multi-label loss and the verbose lines."""

from __future__ import annotations

import math
import warnings
from types import SimpleNamespace

import numpy as np
import pytest
import torch
from sklearn.exceptions import ConvergenceWarning
from sklearn.neural_network import MLPClassifier as SkMLPClassifier
from sklearn.neural_network._base import LOSS_FUNCTIONS
from sklearn.neural_network._stochastic_optimizers import SGDOptimizer

from lamina.sklearn import MLPClassifier, MLPRegressor
from lamina.sklearn.convergence import SklearnConvergence
from lamina.sklearn.losses import SklearnLoss

pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")


@pytest.fixture(scope="module")
def toy():
    rng = np.random.RandomState(0)
    X = rng.randn(30, 3)
    return SimpleNamespace(
        X=X,
        y=(X[:, 0] + X[:, 1] > 0).astype(int),
        yr=X @ np.array([1.0, -2.0, 0.5]),
        w=rng.randint(0, 4, size=30),
    )


# -- learning_rate --------------------------------------------------------------------------------------------


def test_invscaling_rates_follow_sklearns_sgd_optimizer(toy):
    clf = MLPClassifier(
        hidden_layer_sizes=(4,), solver="sgd", learning_rate="invscaling", power_t=0.25, learning_rate_init=0.2
    )
    clf.set_params(max_iter=4, n_iter_no_change=np.inf, random_state=0, warm_start=True)
    clf.fit(toy.X, toy.y)
    clf.fit(toy.X, toy.y)  # warm start: scikit-learn's t_ runs on over fits, the first epoch at the initial rate
    used = list(clf._trainer.history["lr"])  # the rate each epoch of the second fit stepped with
    oracle = SGDOptimizer([np.zeros(1)], 0.2, lr_schedule="invscaling", power_t=0.25)
    expected = [0.2]
    for epoch in range(5, 8):  # the second fit's epochs 1-3 end after 4 + 1..3 epochs of 30 examples
        oracle.iteration_ends(epoch * 30)
        expected.append(oracle.learning_rate)
    np.testing.assert_allclose(used, expected, rtol=1e-12)
    assert clf.t_ == 8 * 30


def _sklearn_adaptive_loop(losses, *, tol, patience):
    """scikit-learn's own epoch loop (``_fit_stochastic``) on given losses: the rate of each epoch and the stop."""
    est = SkMLPClassifier(tol=tol, n_iter_no_change=patience)
    est.loss_curve_, est.best_loss_, est._no_improvement_count = [], np.inf, 0
    opt = SGDOptimizer([np.zeros(1)], 0.1, lr_schedule="adaptive")
    rates = []
    for epoch, loss in enumerate(losses):
        rates.append(opt.learning_rate)
        est.loss_curve_.append(loss)
        est._update_no_improvement_count(False, None, None, None)
        opt.iteration_ends(epoch)
        if est._no_improvement_count > patience:
            if opt.trigger_stopping("", False):
                return rates, epoch + 1
            est._no_improvement_count = 0
    return rates, len(losses)


def test_adaptive_rate_and_stop_follow_sklearns_loop():
    losses = [1.0, 0.5, 0.49, 0.6, 0.4, 0.45, 0.46, 0.47, 0.39, 0.5, 0.5, 0.5] + [0.5] * 60
    rule = SklearnConvergence(tol=0.05, n_iter_no_change=2, adaptive=True)
    trainer = SimpleNamespace(
        optimizer=SimpleNamespace(param_groups=[{"lr": 0.1}, {"lr": 0.1}]), stop_training=False, stop_reason=""
    )
    rates = []
    for epoch, loss in enumerate(losses):
        rates.append(trainer.optimizer.param_groups[0]["lr"])
        rule.on_epoch_end(trainer, epoch, {"loss": loss})
        if trainer.stop_training:
            break
    expected_rates, expected_epochs = _sklearn_adaptive_loop(losses, tol=0.05, patience=2)
    assert len(rates) == expected_epochs < len(losses)
    np.testing.assert_allclose(rates, expected_rates, rtol=1e-12)
    assert trainer.optimizer.param_groups[1]["lr"] == trainer.optimizer.param_groups[0]["lr"] <= 1e-6


def test_adaptive_rate_trains_on_past_the_constant_rule(toy):
    kw = dict(hidden_layer_sizes=(4,), solver="sgd", tol=0.5, max_iter=3000, random_state=0)
    constant = MLPClassifier(**kw).fit(toy.X, toy.y)
    adaptive = MLPClassifier(learning_rate="adaptive", **kw).fit(toy.X, toy.y)
    assert constant.n_iter_ == 12  # the loss improves by tol = 0.5 once at most: the rule stops after 1 + 11
    assert constant.n_iter_ < adaptive.n_iter_ < 3000
    assert adaptive._trainer.optimizer.param_groups[0]["lr"] <= 1e-6


def test_learning_rate_applies_to_sgd_only_and_refuses_a_schedule(toy):
    adam = MLPClassifier(hidden_layer_sizes=(4,), learning_rate="invscaling", max_iter=3, random_state=0)
    adam.fit(toy.X, toy.y)
    assert list(adam._trainer.history["lr"]) == [1e-3] * 3  # scikit-learn's Adam ignores learning_rate too
    with pytest.raises(ValueError, match="learning_rate='adaptive'.*schedule"):
        MLPClassifier(solver="sgd", learning_rate="adaptive", schedule="cosine").fit(toy.X, toy.y)
    with pytest.raises(ValueError, match="`learning_rate` must be one of"):
        MLPClassifier(learning_rate="optimal").fit(toy.X, toy.y)
    with pytest.raises(ValueError, match="`power_t` must be"):
        MLPClassifier(power_t=-1.0).fit(toy.X, toy.y)


# -- sample_weight --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["log_loss", "binary_log_loss", "squared_error", "poisson"])
def test_weighted_losses_equal_sklearns(name):
    rng = np.random.RandomState(1)
    z = rng.randn(7, 3)
    w = rng.rand(7) * 3
    if name == "log_loss":
        t, probs = rng.randint(0, 3, 7), np.exp(z) / np.exp(z).sum(1, keepdims=True)
        expected = LOSS_FUNCTIONS[name](np.eye(3)[t], probs, w)
    elif name == "binary_log_loss":
        t = rng.randint(0, 2, (7, 3)).astype(float)
        expected = LOSS_FUNCTIONS[name](t, 1 / (1 + np.exp(-z)), w)
    elif name == "squared_error":
        t = rng.randn(7, 3)
        expected = LOSS_FUNCTIONS[name](t, z, w)
    else:
        t = rng.poisson(2.0, (7, 3)).astype(float)
        expected = LOSS_FUNCTIONS[name](t, np.exp(z), w)
    got = SklearnLoss(name)(torch.tensor(z), (torch.tensor(t), torch.tensor(w)))
    assert float(got) == pytest.approx(expected, rel=1e-10)
    unweighted = SklearnLoss(name)(torch.tensor(z), torch.tensor(t))
    assert float(unweighted) == pytest.approx(
        float(SklearnLoss(name)(torch.tensor(z), (torch.tensor(t), torch.ones(7))))
    )


def test_weighted_penalty_is_divided_by_the_weight_sum():
    net = torch.nn.Linear(2, 1).double()
    loss = SklearnLoss("squared_error", alpha=0.3, penalized=net)
    z, t, w = torch.zeros(4, 1, dtype=torch.float64), torch.zeros(4, 1, dtype=torch.float64), torch.full((4,), 2.5)
    expected = 0.3 / (2 * 10.0) * float((net.weight**2).sum())  # the bias is not penalised
    assert float(loss(z, (t, w))) == pytest.approx(expected, rel=1e-12)


@pytest.mark.parametrize(
    "solver, kw, rtol",
    [
        ("lbfgs", {}, 1e-6),
        ("adam", {"max_iter": 50}, 1e-5),
        ("sgd", {"max_iter": 50, "learning_rate_init": 0.05}, 1e-5),
    ],
)
def test_integer_weights_equal_repeated_rows(toy, solver, kw, rtol):
    """Full-batch training (30 examples, batch_size="auto"): weights and repeats give the same steps, to the
    rounding of float32 weights (L-BFGS runs in float64)."""
    Xr = np.repeat(toy.X, toy.w, axis=0)
    for cls, y in ((MLPClassifier, toy.y), (MLPRegressor, toy.yr)):
        params = dict(hidden_layer_sizes=(5,), solver=solver, alpha=0.01, random_state=0, **kw)
        weighted = cls(**params).fit(toy.X, y, sample_weight=toy.w)
        repeated = cls(**params).fit(Xr, np.repeat(y, toy.w, axis=0))
        out = "predict_proba" if cls is MLPClassifier else "predict"
        a, b = getattr(weighted, out)(toy.X), getattr(repeated, out)(toy.X)
        np.testing.assert_allclose(a, b, rtol=rtol, atol=rtol * np.abs(b).max())
        assert weighted.n_iter_ == repeated.n_iter_


def test_partial_fit_and_early_stopping_take_weights(toy):
    reg = MLPRegressor(hidden_layer_sizes=(4,), solver="sgd", learning_rate_init=0.01, random_state=0)
    reg.partial_fit(toy.X, toy.yr, sample_weight=toy.w)
    zero = MLPRegressor(hidden_layer_sizes=(4,), solver="sgd", learning_rate_init=0.01, random_state=0)
    zero.partial_fit(toy.X, toy.yr, sample_weight=np.zeros(30) + (np.arange(30) == 0))  # one example only
    alone = MLPRegressor(hidden_layer_sizes=(4,), solver="sgd", learning_rate_init=0.01, random_state=0)
    alone.set_params(batch_size=30)
    alone.partial_fit(toy.X[:1].repeat(30, axis=0), toy.yr[:1].repeat(30))
    np.testing.assert_allclose(zero.predict(toy.X), alone.predict(toy.X), rtol=1e-5, atol=1e-6)
    # with early stopping the held-out score is weighted: R^2 with weights differs from without
    stop = MLPRegressor(hidden_layer_sizes=(4,), early_stopping=True, max_iter=5, random_state=0)
    stop.fit(toy.X, toy.yr, sample_weight=toy.w + 1)
    plain = MLPRegressor(hidden_layer_sizes=(4,), early_stopping=True, max_iter=5, random_state=0)
    plain.fit(toy.X, toy.yr)
    assert len(stop.validation_scores_) == 5
    assert stop.validation_scores_ != plain.validation_scores_
    with pytest.raises(ValueError, match="sample_weight needs one of scikit-learn's losses"):
        MLPRegressor(loss="huber", max_iter=2).fit(toy.X, toy.yr, sample_weight=toy.w)


# -- loss="poisson", multi-label, shuffle, verbose ------------------------------------------------------------


def test_poisson_predicts_the_exponential_of_the_output(toy):
    counts = np.random.RandomState(0).poisson(np.exp(0.5 * toy.X[:, 0] + 1))
    reg = MLPRegressor(loss="poisson", hidden_layer_sizes=(4,), solver="lbfgs", random_state=0).fit(toy.X, counts)
    assert reg.out_activation_ == "exp"
    z = reg.module_(torch.tensor(toy.X, dtype=torch.float32)).detach().double().numpy().ravel()
    np.testing.assert_allclose(reg.predict(toy.X), np.exp(z), rtol=1e-6)
    assert reg.predict(toy.X).min() > 0
    with pytest.raises(ValueError, match="non-negative targets"):
        MLPRegressor(loss="poisson").fit(toy.X, -counts - 1.0)


def test_multilabel_loss_sums_over_the_labels_as_sklearn():
    """scikit-learn's binary log-loss sums the labels' terms; the mean over labels would shrink each label's
    gradient by their number (and make alpha weigh that much more)."""
    z, t = torch.randn(5, 4, dtype=torch.float64), torch.randint(0, 2, (5, 4)).double()
    per_label = torch.nn.functional.binary_cross_entropy_with_logits(z, t, reduction="mean")
    assert float(SklearnLoss("binary_log_loss")(z, t)) == pytest.approx(4 * float(per_label), rel=1e-12)


def test_shuffle_false_is_independent_of_the_seed_but_not_of_the_order(toy):
    def fit(X, y, seed, shuffle):
        reg = MLPRegressor(hidden_layer_sizes=(3,), batch_size=4, max_iter=3, shuffle=shuffle, solver="sgd")
        return reg.set_params(random_state=seed).fit(X, y)

    # the weights start from the seed; with shuffle=False only the order of the data decides the batches
    ordered, again = fit(toy.X, toy.yr, 0, False), fit(toy.X, toy.yr, 0, False)
    np.testing.assert_array_equal(ordered.coefs_[0], again.coefs_[0])
    assert not np.array_equal(ordered.coefs_[0], fit(toy.X[::-1], toy.yr[::-1], 0, False).coefs_[0])
    assert not np.array_equal(ordered.coefs_[0], fit(toy.X, toy.yr, 0, True).coefs_[0])


def test_verbose_prints_sklearns_validation_and_stop_lines(toy, capsys):
    clf = MLPClassifier(hidden_layer_sizes=(4,), early_stopping=True, n_iter_no_change=1, tol=10.0, verbose=True)
    clf.set_params(random_state=0, max_iter=50).fit(toy.X, toy.y)
    lines = capsys.readouterr().out.splitlines()
    assert lines[:2] == [
        f"Iteration 1, loss = {clf.loss_curve_[0]:.8f}",
        f"Validation score: {clf.validation_scores_[0]:f}",
    ]
    assert lines[-1] == "Validation score did not improve more than tol=10.000000 for 1 consecutive epochs. Stopping."
    assert math.isfinite(clf.best_validation_score_)


def test_warm_start_with_other_classes_keeps_the_fitted_ones(toy):
    clf = MLPClassifier(hidden_layer_sizes=(3,), solver="lbfgs", warm_start=True, random_state=0).fit(toy.X, toy.y)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        with pytest.raises(ValueError, match=r"Previously got \[0 1\], `y` has \[0 1 2\]"):
            clf.fit(toy.X, np.arange(30) % 3)
    np.testing.assert_array_equal(clf.classes_, [0, 1])
