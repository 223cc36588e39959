"""AutoencoderTransformer: each kind's module and its maps against NumPy (the oracle: the fitted weights written
out), stacks pretrained greedily, Pipeline and GridSearchCV, pickling, and bad input."""

from __future__ import annotations

import pickle
import re

import numpy as np
import pytest
from scipy.special import expit
from sklearn.datasets import load_digits
from sklearn.model_selection import GridSearchCV, train_test_split
from sklearn.neighbors import KNeighborsClassifier
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import StandardScaler

from lamina.generative import (
    Autoencoder,
    ContractiveAutoencoder,
    DeepAutoencoder,
    DenoisingAutoencoder,
    SparseAutoencoder,
)
from lamina.sklearn import AutoencoderTransformer

pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")


@pytest.fixture(scope="module")
def digits():
    X, y = load_digits(return_X_y=True)
    return train_test_split(X / 16.0, y, test_size=0.25, random_state=0)


def _numpy(tensor) -> np.ndarray:
    return tensor.detach().numpy().astype(np.float64)


@pytest.mark.parametrize(
    ("kind", "module"),
    [
        ("plain", Autoencoder),
        ("denoising", DenoisingAutoencoder),
        ("sparse", SparseAutoencoder),
        ("contractive", ContractiveAutoencoder),
    ],
)
def test_each_kind_trains_its_module_and_maps_like_numpy(digits, kind, module):
    X, X_test, _, _ = digits
    ae = AutoencoderTransformer((16,), kind, max_iter=5, learning_rate=0.01, random_state=0).fit(X)
    assert type(ae.module_) is module and ae.reconstruction_loss_ == "cross_entropy"  # X in [0, 1]
    assert ae.loss_curve_[-1] < ae.loss_curve_[0]
    W, c, b = _numpy(ae.module_.weight), _numpy(ae.module_.hidden_bias), _numpy(ae.module_.visible_bias)
    codes = expit(X_test @ W.T + c)  # tied weights: decode with W^T
    np.testing.assert_allclose(ae.transform(X_test), codes, rtol=1e-10)
    reconstruction = expit(codes @ W + b)
    np.testing.assert_allclose(ae.inverse_transform(codes), reconstruction, rtol=1e-10)
    # score_samples: minus the cross-entropy of each clean row, no penalty
    cross_entropy = -(X_test * np.log(reconstruction) + (1 - X_test) * np.log1p(-reconstruction)).sum(axis=1)
    np.testing.assert_allclose(ae.score_samples(X_test), -cross_entropy, rtol=1e-8)
    assert ae.score(X_test) == pytest.approx(-cross_entropy.mean())


def test_kind_options_reach_the_module(digits):
    X, _, _, _ = digits
    options = {
        "denoising": dict(corruption="gaussian", corruption_level=0.3),
        "sparse": dict(sparsity="l1", sparsity_weight=0.5),
        "contractive": dict(contraction=0.7),
    }
    built = {
        kind: AutoencoderTransformer((4,), kind, max_iter=1, random_state=0, **kw).fit(X[:20]).module_
        for kind, kw in options.items()
    }
    assert (built["denoising"].corruption, built["denoising"].level) == ("gaussian", 0.3)
    assert (built["sparse"].sparsity, built["sparse"].sparsity_weight) == ("l1", 0.5)
    assert built["contractive"].contraction == 0.7


def test_real_valued_data_gets_squared_error_and_a_linear_decoder(digits):
    X, X_test, _, _ = digits
    scaler = StandardScaler().fit(X)
    ae = AutoencoderTransformer((8,), activation="tanh", max_iter=10, learning_rate=0.01, random_state=0)
    ae.fit(scaler.transform(X))
    Z = scaler.transform(X_test)
    W, c, b = _numpy(ae.module_.weight), _numpy(ae.module_.hidden_bias), _numpy(ae.module_.visible_bias)
    reconstruction = np.tanh(Z @ W.T + c) @ W + b
    assert ae.reconstruction_loss_ == "mse"
    np.testing.assert_allclose(ae.score_samples(Z), -((reconstruction - Z) ** 2).sum(axis=1), rtol=1e-8)
    with pytest.raises(ValueError, match=r"X holds values in \[-.*set loss='mse'"):
        AutoencoderTransformer(loss="cross_entropy", max_iter=1).fit(scaler.transform(X))


def test_a_stack_is_pretrained_layer_by_layer_then_fine_tuned(digits):
    X, X_test, _, _ = digits
    ae = AutoencoderTransformer(
        (32, 8), "denoising", pretrain_epochs=3, max_iter=10, learning_rate=0.01, random_state=0
    ).fit(X)
    assert isinstance(ae.module_, DeepAutoencoder) and ae.module_.sizes == [64, 32, 8]
    assert [(layer["n_visible"], layer["n_hidden"], layer["epochs"]) for layer in ae.pretrained_layers_] == [
        (64, 32, 3),
        (32, 8, 3),
    ]
    assert ae.transform(X_test).shape == (len(X_test), 8)
    assert ae.inverse_transform(ae.transform(X_test)).shape == X_test.shape
    np.testing.assert_allclose(
        ae.inverse_transform(ae.transform(X_test)), _numpy(ae.module_.reconstruct(_tensor(X_test))), atol=1e-6
    )
    # pretraining starts fine-tuning from a better place: a lower first-epoch loss than from random weights
    scratch = AutoencoderTransformer(
        (32, 8), "denoising", pretrain_epochs=0, max_iter=1, learning_rate=0.01, random_state=0
    ).fit(X)
    assert not hasattr(scratch, "pretrained_layers_")
    assert ae.loss_curve_[0] < scratch.loss_curve_[0] - 3  # measured: 28-29 against 39 (seeds 0-2)


def _tensor(x):
    import torch

    return torch.as_tensor(x, dtype=torch.float32)


def test_pipeline_and_grid_search(digits):
    X, X_test, y, y_test = digits
    pipe = Pipeline(
        [
            ("ae", AutoencoderTransformer(max_iter=15, learning_rate=0.01, random_state=0)),
            ("knn", KNeighborsClassifier()),
        ]
    )  # a cheap classifier: the grid fits it ten times
    search = GridSearchCV(
        pipe, {"ae__kind": ["plain", "denoising"], "ae__hidden_layer_sizes": [(4,), (32,)]}, cv=2
    ).fit(X, y)
    assert search.best_params_["ae__hidden_layer_sizes"] == (32,)  # 4 features cannot separate 10 digits as well
    assert search.score(X_test, y_test) > 0.93  # measured 0.97 (0.66 on 4 codes)
    # alone, GridSearchCV maximises score: minus the reconstruction error, lower with a wider code
    alone = GridSearchCV(
        AutoencoderTransformer(max_iter=15, learning_rate=0.01, random_state=0),
        {"hidden_layer_sizes": [(4,), (32,)]},
        cv=2,
    ).fit(X)
    assert alone.best_params_ == {"hidden_layer_sizes": (32,)}


def test_pickle_warm_start_and_partial_fit(digits):
    X, X_test, _, _ = digits
    ae = AutoencoderTransformer((16,), "sparse", max_iter=3, warm_start=True, random_state=0).fit(X)
    copy = pickle.loads(pickle.dumps(ae))
    np.testing.assert_array_equal(copy.transform(X_test), ae.transform(X_test))
    ae.fit(X)
    assert ae.n_iter_ == 3 and len(ae.loss_curve_) == 6  # n_iter_ counts the last fit, as scikit-learn
    partial = AutoencoderTransformer((16,), random_state=0)
    for _ in range(2):
        partial.partial_fit(X)
    assert partial.n_iter_ == 2 and partial.reconstruction_loss_ == "cross_entropy"


def test_bad_input_is_named(digits):
    X, _, _, _ = digits
    with pytest.raises(
        ValueError,
        match=re.escape(
            "`kind` must be one of 'plain', 'denoising', 'sparse', "
            "'contractive', got 'denoisng'; did you mean 'denoising'?"
        ),
    ):
        AutoencoderTransformer(kind="denoisng").fit(X)
    with pytest.raises(
        ValueError, match=re.escape("`hidden_layer_sizes` must be a non-empty sequence of positive integers, got ()")
    ):
        AutoencoderTransformer(()).fit(X)
    with pytest.raises(ValueError, match="needs sigmoid codes"):
        AutoencoderTransformer(kind="sparse", activation="relu", max_iter=1).fit(X)
    ae = AutoencoderTransformer((4,), max_iter=1, random_state=0).fit(X[:20])
    with pytest.raises(
        ValueError,
        match=re.escape("inverse_transform takes codes of 4 components, shape (n_samples, 4); got shape (2, 3)"),
    ):
        ae.inverse_transform(np.zeros((2, 3)))
    with pytest.raises(ValueError, match="X has 3 features, but AutoencoderTransformer is expecting 64 features"):
        ae.transform(np.zeros((2, 3)))
