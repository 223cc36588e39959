"""scikit-learn estimators around lamina's models: ``fit``/``predict``/``transform``/``score``,
``get_params``/``set_params``, usable in ``Pipeline`` and ``GridSearchCV``, pickled through state dicts, seeded by
``random_state``, run on any ``device``. Every one passes scikit-learn's ``check_estimator``
(``tests/sklearn/test_estimator_checks.py``).

- :class:`MLPClassifier`, :class:`MLPRegressor`: scikit-learn's MLP interface and hyper-parameters, trained by
  :class:`lamina.Trainer`; any lamina layer stack (convolutions included) can replace the hidden layers, and
  ``pretrain`` runs greedy layer-wise pretraining first (``pretrain="rbm"``: a deep belief net classifier).
- :class:`LaminaEstimator`, :class:`LaminaTransformer`: the bases a wrapper for another lamina model builds on.
"""
from lamina.sklearn.base import LaminaEstimator
from lamina.sklearn.convergence import SklearnConvergence
from lamina.sklearn.mlp_classifier import MLPClassifier
from lamina.sklearn.mlp_regressor import MLPRegressor
from lamina.sklearn.transformer import LaminaTransformer

__all__ = ["LaminaEstimator", "LaminaTransformer", "MLPClassifier", "MLPRegressor", "SklearnConvergence"]
