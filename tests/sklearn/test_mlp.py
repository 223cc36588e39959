"""MLPClassifier and MLPRegressor against scikit-learn's own MLPs (the oracle: same weights, same step), in
pipelines and grid searches, pickled, resumed, and on bad input."""

from __future__ import annotations

import io
import pickle
import re
import warnings

import numpy as np
import pytest
import torch
from sklearn.datasets import load_digits
from sklearn.exceptions import ConvergenceWarning, NotFittedError
from sklearn.model_selection import GridSearchCV, train_test_split
from sklearn.neural_network import MLPClassifier as SkMLPClassifier
from sklearn.neural_network import MLPRegressor as SkMLPRegressor
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import StandardScaler

from lamina.errors import ConfigError
from lamina.sklearn import MLPClassifier, MLPRegressor, SklearnConvergence

pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")


@pytest.fixture(scope="module")
def digits():
    X, y = load_digits(return_X_y=True)
    return train_test_split(X / 16.0, y, test_size=0.25, random_state=0)


def _toy(n=60, seed=0):
    rng = np.random.RandomState(seed)
    X = rng.randn(n, 5)
    return X, rng.randint(0, 3, n), rng.randn(n)


# -- the same numbers as scikit-learn ---------------------------------------------------------------------------


@pytest.mark.parametrize("kind", ["classifier", "regressor"])
def test_one_sgd_step_equals_sklearn(kind):
    """From equal weights, one full-batch SGD step with an L2 penalty lands on scikit-learn's weights: the same
    loss (cross-entropy; half squared error), the same alpha scaling and learning rate."""
    X, y_class, y_real = _toy()
    y = y_class if kind == "classifier" else y_real
    ours_cls, sk_cls = (MLPClassifier, SkMLPClassifier) if kind == "classifier" else (MLPRegressor, SkMLPRegressor)
    options = dict(
        hidden_layer_sizes=(7,),
        solver="sgd",
        momentum=0.0,
        learning_rate_init=0.1,
        batch_size=60,
        alpha=0.3,
        max_iter=1,
        warm_start=True,
        random_state=0,
    )
    ours = ours_cls(**options).fit(X, y)
    sk = sk_cls(shuffle=False, **options).fit(X, y)  # fitted once so that a warm start keeps set weights
    sk.coefs_ = [w.astype(np.float64) for w in ours.coefs_]
    sk.intercepts_ = [b.astype(np.float64) for b in ours.intercepts_]
    start = ours.coefs_
    ours.fit(X, y)
    sk.fit(X, y)
    assert max(np.abs(a - b).max() for a, b in zip(start, ours.coefs_)) > 1e-3  # the step moved the weights
    for a, b in zip(ours.coefs_ + ours.intercepts_, sk.coefs_ + sk.intercepts_):
        np.testing.assert_allclose(a, b, atol=1e-6)
    assert ours.loss_curve_[-1] == pytest.approx(sk.loss_curve_[-1], rel=1e-5)


def test_predict_proba_equals_sklearn_forward_pass():
    X, y, _ = _toy()
    ours = MLPClassifier(hidden_layer_sizes=(8, 6), activation="tanh", max_iter=5, random_state=0).fit(X, y)
    sk = SkMLPClassifier(hidden_layer_sizes=(8, 6), activation="tanh", max_iter=1, random_state=0).fit(X, y)
    sk.coefs_, sk.intercepts_ = [w.astype(np.float64) for w in ours.coefs_], ours.intercepts_
    np.testing.assert_allclose(ours.predict_proba(X), sk.predict_proba(X), atol=1e-6)
    np.testing.assert_array_equal(ours.predict(X), sk.predict(X))
    assert ours.n_layers_ == sk.n_layers_ == 4


def test_convergence_rule_matches_sklearns_definition():
    """scikit-learn stops once more than n_iter_no_change epochs in a row fail to beat the best loss by tol."""

    class _Trainer:
        stop_training, stop_reason, model = False, "", None

    rule, trainer = SklearnConvergence(tol=0.1, n_iter_no_change=2), _Trainer()
    # epoch 2 improves on 1.0 by 0.5; epochs 3-5 improve by less than tol on the best (0.5, 0.45, 0.41): stop at 5
    for epoch, loss in enumerate([1.0, 0.5, 0.45, 0.41, 0.40, 0.1]):
        rule.on_epoch_end(trainer, epoch, {"loss": loss})
        if trainer.stop_training:
            break
    assert epoch == 4 and rule.converged and rule.best_loss == pytest.approx(0.40)


def test_fit_stops_by_the_rule_and_warns_otherwise(digits):
    X, _, y, _ = digits
    with pytest.warns(ConvergenceWarning, match="max_iter=3"):
        assert MLPClassifier(max_iter=3, random_state=0).fit(X, y).n_iter_ == 3
    with warnings.catch_warnings():
        warnings.simplefilter("error", ConvergenceWarning)
        clf = MLPClassifier(hidden_layer_sizes=(16,), tol=0.5, n_iter_no_change=2, max_iter=50, random_state=0)
        assert clf.fit(X, y).n_iter_ == 4  # no epoch after the first lowers the loss by 0.5


# -- estimator behaviour --------------------------------------------------------------------------------------


def test_pipeline_and_grid_search(digits):
    X, X_test, y, y_test = digits
    pipe = Pipeline(
        [
            ("scale", StandardScaler()),
            ("mlp", MLPClassifier(hidden_layer_sizes=(32,), max_iter=15, learning_rate_init=0.01, random_state=0)),
        ]
    )
    search = GridSearchCV(pipe, {"mlp__alpha": [1e-4, 1e-1]}, cv=2).fit(X, y)
    assert set(search.cv_results_["param_mlp__alpha"]) == {1e-4, 1e-1}
    assert search.score(X_test, y_test) > 0.9


def test_random_state_reproduces_and_varies(digits):
    X, X_test, y, _ = digits
    a, b, c = (MLPClassifier(hidden_layer_sizes=(16,), max_iter=3, random_state=s).fit(X, y) for s in (1, 1, 2))
    np.testing.assert_array_equal(a.predict_proba(X_test), b.predict_proba(X_test))
    assert np.abs(a.predict_proba(X_test) - c.predict_proba(X_test)).max() > 1e-3


def test_pickle_keeps_predictions_and_partial_fit_state(digits):
    X, X_test, y, _ = digits
    clf = MLPClassifier(hidden_layer_sizes=(16,), random_state=0).partial_fit(X, y, classes=np.arange(10))
    copy = pickle.loads(pickle.dumps(clf))
    assert "module_" not in clf.__getstate__() and "_module_state" in clf.__getstate__()
    np.testing.assert_array_equal(copy.predict_proba(X_test), clf.predict_proba(X_test))
    # the optimizer (Adam's moments) and the shuffling stream travel too: both continue identically
    clf.partial_fit(X, y)
    copy.partial_fit(X, y)
    np.testing.assert_allclose(copy.predict_proba(X_test), clf.predict_proba(X_test), atol=1e-6)
    assert copy.n_iter_ == clf.n_iter_ == 2


def test_partial_fit_learns_and_needs_classes_first(digits):
    X, X_test, y, y_test = digits
    clf = MLPClassifier(hidden_layer_sizes=(32,), learning_rate_init=0.01, random_state=0)
    with pytest.raises(ValueError, match="classes must be passed on the first call"):
        clf.partial_fit(X, y)
    scores = [clf.partial_fit(X, y, classes=np.arange(10)).score(X_test, y_test) for _ in range(5)]
    assert scores[-1] > scores[0] and scores[-1] > 0.85 and clf.n_iter_ == 5
    with pytest.raises(ValueError, match=r"not in classes_"):
        clf.partial_fit(X[:3], np.array([0, 1, 11]))
    assert not hasattr(MLPClassifier(solver="lbfgs"), "partial_fit")


def test_warm_start_continues_from_the_weights(digits):
    X, _, y, _ = digits
    clf = MLPClassifier(hidden_layer_sizes=(16,), max_iter=4, warm_start=True, random_state=0).fit(X, y)
    first = clf.loss_
    clf.fit(X, y)
    assert clf.n_iter_ == 4 and len(clf.loss_curve_) == 8 and clf.loss_ < first  # n_iter_ counts one fit, as sklearn


def test_early_stopping_keeps_the_best_validation_weights(digits):
    X, _, y, _ = digits
    clf = MLPClassifier(hidden_layer_sizes=(16,), max_iter=12, early_stopping=True, random_state=3).fit(X, y)
    assert len(clf.validation_scores_) == clf.n_iter_ and clf.best_loss_ is None
    # the held-out part, split as scikit-learn splits it, scores exactly the best score seen
    _, X_val, _, y_val = train_test_split(X, y, test_size=0.1, stratify=y, random_state=3)
    assert clf.score(X_val, y_val) == pytest.approx(clf.best_validation_score_)
    assert clf.best_validation_score_ == max(clf.validation_scores_)


def test_convolutional_layers_in_an_estimator(digits):
    X, X_test, y, y_test = digits
    clf = MLPClassifier(
        layers=[
            {"type": "conv2d", "filters": 8, "kernel_size": 3, "activation": "relu"},
            {"type": "max_pool2d", "kernel_size": 2},
        ],
        input_shape=(1, 8, 8),
        learning_rate_init=0.01,
        max_iter=8,
        random_state=0,
    ).fit(X, y)
    assert clf.score(X_test, y_test) > 0.9
    assert [layer["type"] for layer in clf.module_spec_["layers"]] == [
        "reshape",
        "conv2d",
        "max_pool2d",
        "flatten",
        "dense",
    ]
    with pytest.raises(AttributeError, match="Conv2d"):
        _ = clf.coefs_


def test_multilabel_and_multioutput(digits):
    X, X_test, y, _ = digits
    Y = np.column_stack([y % 2, y > 4, y == 0]).astype(int)
    clf = MLPClassifier(hidden_layer_sizes=(32,), learning_rate_init=0.01, max_iter=20, random_state=0).fit(X, Y)
    assert clf.out_activation_ == "logistic" and clf.predict(X_test).shape == (len(X_test), 3)
    assert clf.score(X, Y) > 0.8  # subset accuracy: all three labels right
    R = np.column_stack([X[:, 10] + X[:, 20], X[:, 30] - X[:, 40]])
    reg = MLPRegressor(hidden_layer_sizes=(32,), learning_rate_init=0.01, max_iter=30, random_state=0).fit(X, R)
    assert reg.predict(X_test).shape == (len(X_test), 2) and reg.score(X, R) > 0.9


def test_other_solvers_losses_and_schedules(digits):
    X, X_test, y, y_test = digits
    for solver in ("sgd", {"type": "rmsprop", "lr": 0.003}, "lbfgs"):
        clf = MLPClassifier(
            hidden_layer_sizes=(32,),
            solver=solver,
            learning_rate_init=0.05,
            max_iter=15,
            schedule="cosine",
            random_state=0,
        ).fit(X, y)
        assert clf.score(X_test, y_test) > 0.8, solver
    reg = MLPRegressor(loss="huber", max_iter=30, random_state=0).fit(X, X[:, 20])
    assert reg.score(X_test, X_test[:, 20]) > 0.8


def test_greedy_pretraining_before_fine_tuning(digits):
    """With ``pretrain``, fit starts from the weights the greedy driver gives the same initial network."""
    from lamina.pretrain import pretrain_layerwise
    from lamina.train.rng import seeded
    from tests.sklearn.toy import TiedAutoencoderPretraining

    X, _, y, _ = digits
    method = TiedAutoencoderPretraining(epochs=2, batch_size=64)
    clf = MLPClassifier(
        hidden_layer_sizes=(12, 8),
        activation="sigmoid",
        pretrain=method,
        max_iter=1,
        learning_rate_init=1e-12,
        random_state=5,
    ).fit(X, y)
    assert [layer["layer"] for layer in clf.pretrained_layers_] == ["dense_0", "dense_1"]
    with seeded(5):
        oracle = clf._module_from_spec(clf.module_spec_)
    pretrain_layerwise(oracle, torch.tensor(X, dtype=torch.float32), method, device="cpu", seed=5)
    for ours, theirs in zip(clf.coefs_, (oracle.dense_0.linear.weight, oracle.dense_1.linear.weight)):
        np.testing.assert_allclose(ours, theirs.detach().numpy().T, atol=1e-8)  # fine-tuning moved them 1e-12
    assert not hasattr(clf.set_params(pretrain=None).fit(X, y), "pretrained_layers_")


def test_verbose_prints_each_epoch(digits, capsys):
    X, _, y, _ = digits
    clf = MLPClassifier(hidden_layer_sizes=(8,), max_iter=2, verbose=True, random_state=0).fit(X, y)
    clf.partial_fit(X, y)
    # scikit-learn's lines, the iteration counted on over partial_fit
    expected = [f"Iteration {i + 1}, loss = {loss:.8f}" for i, loss in enumerate(clf.loss_curve_)]
    assert capsys.readouterr().out.splitlines() == expected


# -- bad input ------------------------------------------------------------------------------------------------


def test_predict_before_fit_is_not_fitted_error():
    with pytest.raises(NotFittedError, match="MLPClassifier instance is not fitted yet"):
        MLPClassifier().predict(np.zeros((2, 3)))
    with pytest.raises(NotFittedError):
        MLPRegressor().predict(np.zeros((2, 3)))


def test_wrong_number_of_features_names_both_numbers(digits):
    X, _, y, _ = digits
    clf = MLPClassifier(hidden_layer_sizes=(8,), max_iter=1, random_state=0).fit(X, y)
    with pytest.raises(ValueError, match="X has 10 features, but MLPClassifier is expecting 64 features"):
        clf.predict(np.zeros((2, 10)))


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"hidden_layer_sizes": (10, 0)}, "`hidden_layer_sizes` must be a sequence of positive integers, got (10, 0)"),
        ({"max_iter": 0}, "`max_iter` must be a positive integer, got 0"),
        ({"max_fun": 0}, "`max_fun` must be a positive integer, got 0"),
        ({"n_iter_no_change": 0}, "`n_iter_no_change` must be a positive integer or np.inf (no stopping rule), got 0"),
        ({"alpha": -1.0}, "`alpha` must be a number >= 0, got -1.0"),
        ({"validation_fraction": 1.0}, "`validation_fraction` must be a number in (0, 1), got 1.0"),
        ({"batch_size": "big"}, "`batch_size` must be 'auto' or a positive integer, got 'big'"),
        ({"device": "gpu"}, "`device` must be 'auto', 'cpu', 'cuda', 'cuda:N' or 'mps', got 'gpu'"),
        ({"input_shape": (1, 5, 5)}, "`input_shape` (1, 5, 5) holds 25 values, but X has 64 features"),
        ({"activation": "rleu"}, "did you mean 'relu'"),
    ],
)
def test_bad_hyper_parameters_are_named(digits, params, message):
    X, _, y, _ = digits
    with pytest.raises(ValueError, match=re.escape(message)):
        MLPClassifier(**{"max_iter": 1, **params}).fit(X, y)


def test_unknown_solver_suggests_the_closest():
    X, y, _ = _toy()
    with pytest.raises(ConfigError, match=r"solver: unknown optimizer 'adma'; did you mean 'adam'\?"):
        MLPClassifier(solver="adma", max_iter=1).fit(X, y)


def test_classifier_refuses_continuous_targets_and_regressor_text():
    X, _, y_real = _toy()
    with pytest.raises(ValueError, match="Unknown label type: continuous"):
        MLPClassifier(max_iter=1).fit(X, y_real)
    with pytest.raises(ValueError):
        MLPRegressor(max_iter=1).fit(X, np.array(["a"] * len(X)))


def test_device_agnostic_state_is_plain_tensors():
    X, y, _ = _toy()
    clf = MLPClassifier(hidden_layer_sizes=(4,), max_iter=1, device="auto", random_state=0).fit(X, y)
    buffer = io.BytesIO()
    torch.save(clf.__getstate__()["_module_state"], buffer)  # weights_only-loadable: tensors only
    buffer.seek(0)
    assert set(torch.load(buffer, weights_only=True)) == set(clf.module_.state_dict())


def test_unpickled_without_the_fitting_device_runs_on_the_cpu():
    X, y, _ = _toy()
    clf = MLPClassifier(hidden_layer_sizes=(4,), max_iter=1, random_state=0).fit(X, y)
    state = clf.__getstate__()
    state["device_"] = torch.device("cuda", 7)  # as if fitted on a machine with eight GPUs
    copy = MLPClassifier.__new__(MLPClassifier)
    if torch.cuda.device_count() > 7:
        pytest.skip("this machine has a cuda:7")
    with pytest.warns(UserWarning, match="fitted on cuda:7, which this machine lacks; it runs on the CPU"):
        copy.__setstate__(state)
    np.testing.assert_array_equal(copy.predict_proba(X), clf.predict_proba(X))


def test_float64_predictions_follow_the_weights():
    """float64 inputs run through a float64 copy of the network: kept while the weights stay, rebuilt after
    partial_fit changes them (the oracle: the float32 network's outputs, to float32 rounding)."""
    X, y, _ = _toy()
    clf = MLPClassifier(hidden_layer_sizes=(6,), max_iter=5, random_state=0).fit(X, y)
    first = clf.predict_proba(X)
    assert first.dtype == np.float64
    assert clf._module_in(torch.float64) is clf._module_in(torch.float64)  # reused, not copied per call
    np.testing.assert_allclose(first, clf.predict_proba(X.astype(np.float32)), atol=1e-6)
    clf.partial_fit(X, y)
    after = clf.predict_proba(X)
    assert not np.allclose(after, first)
    np.testing.assert_allclose(after, clf.predict_proba(X.astype(np.float32)), atol=1e-6)
