"""scikit-learn's own ``sklearn/neural_network/tests`` (``test_mlp.py``, ``test_rbm.py``, copied from scikit-learn
1.9.1 with their licence header; see LICENSE-scikit-learn.txt), retargeted at lamina (issue 23).

The copies differ from scikit-learn's only in the import of the estimators (``lamina.sklearn.MLPClassifier``,
``MLPRegressor``, and ``RBMTransformer`` under scikit-learn's class name, ``adapters.BernoulliRBM``, because two
tests assert outputs built from the class name; the parameter names agree).
Every test that cannot pass is listed in ``XFAIL`` below and marked ``xfail(strict=True)`` with its reason, one of:

- ``private``: it reads or sets a scikit-learn private attribute or method, or a fitted attribute lamina computes
  rather than stores (``coefs_`` is a read-only view of the torch module);
- ``random stream``: it asserts numbers that follow from scikit-learn's NumPy random stream;
- ``deliberate``: a documented, deliberate difference (float32 weights; the RBM's mean-field negative phase).

A strict xfail fails the suite once the test passes, so an entry is removed when the behaviour lands.
"""

from __future__ import annotations

from pathlib import Path

import pytest

_HERE = Path(__file__).parent

_SHUFFLE = "not yet implemented: the `shuffle` parameter"
_LEARNING_RATE = "not yet implemented: learning_rate='invscaling'/'adaptive' and power_t"
_OPTIMIZER = (
    "private: reads MLP._optimizer.learning_rate (scikit-learn's optimizer object; tests/sklearn checks the rates)"
)
_MEAN_FIELD = (
    "deliberate: the default mean-field negative phase (reconstruction='probabilities', documented) reaches a "
    "pseudo-likelihood of -17.3 where the test pins scikit-learn's -21 +- 1.5; reconstruction='samples', "
    "scikit-learn's PCD step, reaches -20.2 (tests/sklearn/test_rbm_transformer.py compares the two)"
)
_MEAN_HIDDENS = "private: calls BernoulliRBM._mean_hiddens"

XFAIL: dict[str, str] = {
    # test_mlp.py
    "test_mlp.py::test_fit": "private: sets coefs_/intercepts_ (lamina's are read-only views of module_)",
    "test_mlp.py::test_gradient": "private: calls MLP._loss_grad_lbfgs",
    "test_mlp.py::test_learning_rate_warmstart": _OPTIMIZER,
    "test_mlp.py::test_adaptive_learning_rate": _OPTIMIZER,
    "test_mlp.py::test_nonfinite_params": "deliberate: float32 weights (inputs beyond float32's range are refused "
    "before training, with an input error, rather than diverging; a diverging fit gives scikit-learn's message)",
    "test_mlp.py::test_mlp_param_dtypes[MLPClassifier-float64]": "deliberate: float32 weights",
    "test_mlp.py::test_mlp_param_dtypes[MLPRegressor-float32]": "deliberate: float32 weights (predict returns float64)",
    "test_mlp.py::test_mlp_param_dtypes[MLPRegressor-float64]": "deliberate: float32 weights",
    "test_mlp.py::test_preserve_feature_names[MLPClassifier]": "deliberate: its y holds one class, which lamina "
    "refuses with a clear error (as scikit-learn's SVC and LogisticRegression do; its MLPClassifier fits it and "
    "always predicts that class); skipped without pandas",
    "test_mlp.py::test_mlp_loading_from_joblib_partial_fit": "random stream: after 200 partial_fit steps the "
    "residual |pred - 1| is 0.2-1.1e-4 in both libraries over random_state 0-7; the test's rtol is 1e-4 "
    "(lamina at seed 42: 1.04e-4)",
    # test_rbm.py
    "test_rbm.py::test_fit": _MEAN_FIELD,
    "test_rbm.py::test_partial_fit": _MEAN_FIELD,
    "test_rbm.py::test_transform": _MEAN_HIDDENS,
    "test_rbm.py::test_sample_hiddens": _MEAN_HIDDENS,
    "test_rbm.py::test_fit_gibbs[csc_matrix]": "random stream: asserts components_ after scikit-learn's stream",
    "test_rbm.py::test_fit_gibbs[csc_array]": "random stream: asserts components_ after scikit-learn's stream",
    "test_rbm.py::test_convergence_dtype_consistency": "private: reads h_samples_ (scikit-learn's persistent chains)",
}


def pytest_configure(config):
    """Register scikit-learn's ``thread_unsafe`` marker (it has meaning only under pytest-run-parallel)."""
    config.addinivalue_line("markers", "thread_unsafe: scikit-learn's marker for tests not run in parallel threads")


def pytest_collection_modifyitems(config, items):
    """Mark each test listed in ``XFAIL`` as a strict xfail with its reason."""
    for item in items:
        if item.path.parent != _HERE:  # the hook sees the whole session's items; lamina has a test_mlp.py too
            continue
        key = f"{item.path.name}::{item.name}"
        if key in XFAIL:
            item.add_marker(pytest.mark.xfail(reason=XFAIL[key], strict=True))


@pytest.fixture
def global_random_seed():
    """scikit-learn's fixture (its own conftest.py) at its default seed, 42."""
    return 42
