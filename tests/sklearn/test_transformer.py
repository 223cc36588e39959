"""The unsupervised base (what the RBM and autoencoder transformers build on), through a minimal autoencoder."""

from __future__ import annotations

import pickle

import numpy as np
import pytest
from scipy.special import expit
from sklearn.datasets import load_digits
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline

from tests.sklearn.toy import TinyAutoencoderTransformer

pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")


@pytest.fixture(scope="module")
def digits():
    X, y = load_digits(return_X_y=True)
    return X / 16.0, y


def test_fit_minimises_the_models_own_loss_and_transform_is_its_encoder(digits):
    X, _ = digits
    untrained = TinyAutoencoderTransformer(n_components=16, max_iter=1, random_state=0).fit(X)
    ae = TinyAutoencoderTransformer(n_components=16, max_iter=30, random_state=0).fit(X)
    assert ae.score(X) > untrained.score(X) and ae.n_iter_ > 1 and ae.loss_curve_[-1] < ae.loss_curve_[0]
    # the oracle: the encoder written out in NumPy from the fitted weights
    W = ae.module_.encoder.weight.detach().numpy().astype(np.float64)
    b = ae.module_.encoder.bias.detach().numpy().astype(np.float64)
    np.testing.assert_allclose(ae.transform(X), expit(X @ W.T + b), atol=1e-5)
    assert ae.transform(X.astype(np.float32)).dtype == np.float32 and ae.transform(X).dtype == np.float64
    assert ae.inverse_transform(ae.transform(X[:5])).shape == (5, 64)
    # score is minus the mean reconstruction error
    reconstruction = ae.inverse_transform(ae.transform(X))
    assert ae.score(X) == pytest.approx(-np.mean((reconstruction - X) ** 2), rel=1e-4)


def test_partial_fit_pickle_and_pipeline(digits):
    X, y = digits
    ae = TinyAutoencoderTransformer(n_components=16, random_state=0)
    for _ in range(3):
        ae.partial_fit(X)
    copy = pickle.loads(pickle.dumps(ae))
    np.testing.assert_array_equal(copy.transform(X), ae.transform(X))
    assert copy.n_iter_ == 3
    pipe = make_pipeline(
        TinyAutoencoderTransformer(n_components=32, max_iter=20, random_state=0), LogisticRegression(max_iter=500)
    ).fit(X, y)
    assert pipe.score(X, y) > 0.8
