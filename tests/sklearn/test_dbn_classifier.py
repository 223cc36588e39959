"""DBNClassifier: exactly MLPClassifier with logistic layers and RBM pretraining (the preset), pretraining that
helps at an equal fine-tuning budget (Hinton et al., 2006; Erhan et al., 2010), its own parameters, bad input."""

from __future__ import annotations

import pickle
import re

import numpy as np
import pytest
from sklearn.base import clone
from sklearn.datasets import load_digits
from sklearn.model_selection import train_test_split
from sklearn.preprocessing import StandardScaler

from lamina.errors import DataError
from lamina.sklearn import DBNClassifier, MLPClassifier

pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")


@pytest.fixture(scope="module")
def digits():
    X, y = load_digits(return_X_y=True)
    return train_test_split(X / 16.0, y, test_size=0.25, random_state=0)


def test_is_the_mlp_classifier_with_rbm_pretraining(digits):
    X, X_test, y, _ = digits
    dbn = DBNClassifier((32, 16), pretrain_epochs=2, max_iter=3, random_state=0).fit(X, y)
    mlp = MLPClassifier((32, 16), activation="logistic", pretrain=dbn.pretrain, max_iter=3, random_state=0).fit(X, y)
    np.testing.assert_array_equal(dbn.predict_proba(X_test), mlp.predict_proba(X_test))
    assert [layer["layer"] for layer in dbn.pretrained_layers_] == ["dense_0", "dense_1"]
    assert [layer["n_hidden"] for layer in dbn.pretrained_layers_] == [32, 16]
    assert [type(m).__name__ for m in dbn.module_.modules()].count("Sigmoid") == 2
    # the parameters are the DBN's; what it fixes is no parameter
    params = dbn.get_params()
    assert {"pretrain_epochs", "cd_k", "visible"} <= set(params) and not {"activation", "pretrain"} & set(params)


def test_pretraining_helps_at_an_equal_fine_tuning_budget(digits):
    """Measured (seeds 0-2, 30 epochs of Adam): 0.90-0.92 with ten epochs of RBM pretraining per layer, 0.75-0.82
    from Glorot-uniform weights."""
    X, X_test, y, y_test = digits
    pretrained = DBNClassifier((64, 64), max_iter=30, random_state=0).fit(X, y).score(X_test, y_test)
    scratch = DBNClassifier((64, 64), pretrain_epochs=0, max_iter=30, random_state=0).fit(X, y)
    assert not hasattr(scratch, "pretrained_layers_")
    assert pretrained > 0.88 and pretrained > scratch.score(X_test, y_test) + 0.05


def test_gaussian_visible_units_take_standardised_data(digits):
    X, X_test, y, y_test = digits
    scaler = StandardScaler().fit(X)
    with pytest.raises(DataError, match=r"Negative values in data passed to DBNClassifier\(visible='bernoulli'\)"):
        DBNClassifier((16,), pretrain_epochs=1, max_iter=1).fit(scaler.transform(X), y)
    dbn = DBNClassifier((64,), visible="gaussian", pretrain_epochs=2, max_iter=30, random_state=0)
    assert dbn.fit(scaler.transform(X), y).score(scaler.transform(X_test), y_test) > 0.85
    assert dbn.pretrain["method"] == "gaussian_rbm"


def test_pickle_and_clone(digits):
    X, X_test, y, _ = digits
    dbn = DBNClassifier((16,), pretrain_epochs=1, max_iter=2, random_state=0).fit(X, y)
    copy = pickle.loads(pickle.dumps(dbn))
    np.testing.assert_array_equal(copy.predict_proba(X_test), dbn.predict_proba(X_test))
    assert copy.pretrained_layers_ == dbn.pretrained_layers_
    assert clone(dbn).set_params(cd_k=2).pretrain["k"] == 2


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"pretrain_epochs": -1}, "`pretrain_epochs` must be an integer >= 0, got -1"),
        ({"pretrain_learning_rate": 0}, "`pretrain_learning_rate` must be a number > 0, got 0"),
        ({"cd_k": 0}, "`cd_k` must be a positive integer, got 0"),
        ({"visible": "binary"}, "`visible` must be one of 'bernoulli', 'gaussian', got 'binary'"),
        ({"hidden_layer_sizes": (8, 0)}, "`hidden_layer_sizes` must be a sequence of positive integers, got (8, 0)"),
    ],
)
def test_bad_parameters_are_named(digits, params, message):
    X, _, y, _ = digits
    with pytest.raises(ValueError, match=re.escape(message)):
        DBNClassifier(**{"max_iter": 1, **params}).fit(X[:50], y[:50])
