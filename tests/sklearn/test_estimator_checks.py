"""The peer test suite: every lamina estimator against scikit-learn's own estimator checks.

Checks an estimator cannot pass are listed in EXPECTED_FAILURES with the reason (scikit-learn then marks them
xfail, strictly: one that starts passing fails the suite until it is removed from the list). Each estimator is
checked at a small ``max_iter``, as scikit-learn checks its own MLPs (``max_iter=100``), to keep the suite fast.

scikit-learn itself skips two checks, with the reasons ``pytest -ra`` prints: ``check_array_api_input`` (it runs
only when SCIPY_ARRAY_API=1 is set before SciPy is imported; these estimators take NumPy and SciPy inputs and do
not declare array-API support) and ``check_classifiers_multilabel_output_format_decision_function`` (MLPClassifier
has no ``decision_function``, like scikit-learn's own).
"""
from __future__ import annotations

import pytest
from sklearn.utils.estimator_checks import parametrize_with_checks

from lamina.sklearn import MLPClassifier, MLPRegressor
from tests.sklearn.toy import TinyAutoencoderTransformer

# the checks fit at small max_iter on purpose; the "hasn't converged" warnings would only be noise
pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")

ESTIMATORS = [
    MLPClassifier(hidden_layer_sizes=(16,), learning_rate_init=0.01, max_iter=40, random_state=0),
    MLPRegressor(hidden_layer_sizes=(16,), learning_rate_init=0.01, max_iter=40, random_state=0),
    # the base of the RBM and autoencoder transformers, through a minimal autoencoder
    TinyAutoencoderTransformer(random_state=0),
]

# name of the estimator class -> {check name: why it cannot pass}. Every estimator passes every check today.
EXPECTED_FAILURES: dict[str, dict[str, str]] = {
    "MLPClassifier": {},
    "MLPRegressor": {},
    "TinyAutoencoderTransformer": {},
}


def _expected_failures(estimator) -> dict[str, str]:
    return EXPECTED_FAILURES[type(estimator).__name__]


@parametrize_with_checks(ESTIMATORS, expected_failed_checks=_expected_failures, xfail_strict=True)
def test_sklearn_compatible_estimator(estimator, check):
    """One scikit-learn estimator check; it raises (an ``AssertionError`` or the error it checks for) when the
    estimator breaks scikit-learn's contract, and returns nothing when it holds."""
    check(estimator)
