"""The one adapter the retargeted tests need: lamina's ``RBMTransformer`` under scikit-learn's class name.

scikit-learn's ``test_rbm.py`` asserts outputs that carry the estimator's class name (its verbose line
``[BernoulliRBM] Iteration 1, ...`` and ``get_feature_names_out``'s ``bernoullirbm0``, ...); lamina builds both
from the class name too, so the subclass below, which changes nothing else, lets those tests check the behaviour.
"""

from __future__ import annotations

from lamina.sklearn import RBMTransformer


class BernoulliRBM(RBMTransformer):
    """:class:`lamina.sklearn.RBMTransformer`, named as scikit-learn's estimator (same parameters and behaviour)."""
