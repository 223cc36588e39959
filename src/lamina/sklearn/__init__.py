"""scikit-learn estimators around lamina's models: ``fit``/``predict``/``transform``/``score``,
``get_params``/``set_params``, usable in ``Pipeline`` and ``GridSearchCV``, pickled through state dicts, seeded by
``random_state``, run on any ``device``. Each goes through scikit-learn's ``check_estimator``
(``tests/sklearn/test_estimator_checks.py``, which lists the checks an estimator cannot pass and why).

- :class:`MLPClassifier`, :class:`MLPRegressor`: scikit-learn's MLP interface and hyper-parameters, trained by
  :class:`lamina.Trainer`; any lamina layer stack (convolutions included) can replace the hidden layers, and
  ``pretrain`` runs greedy layer-wise pretraining first (``pretrain="rbm"``: a deep belief net classifier).
- :class:`DBNClassifier`: that deep belief net as a preset: logistic layers pretrained as stacked RBMs, then
  fine-tuned (Hinton, Osindero & Teh, 2006).
- :class:`RBMTransformer`: scikit-learn's ``BernoulliRBM`` interface (hidden probabilities as features,
  pseudo-likelihood scores), with CD-k or persistent CD and Bernoulli or Gaussian visible units.
- :class:`AutoencoderTransformer`: plain, denoising, sparse or contractive autoencoders, one layer or a greedily
  pretrained stack; ``transform`` gives the code, ``inverse_transform`` the reconstruction.
- :class:`HopfieldMemory`: the Hopfield associative memory; ``fit`` stores patterns, ``predict`` recalls them.
- :class:`NARXForecaster`: a NARX network forecasting a series (with optional exogenous inputs) closed-loop,
  with sktime's ``fit(y, X)`` / ``predict(fh, X)`` convention.
- :class:`LaminaEstimator`, :class:`LaminaTransformer`: the bases a wrapper for another lamina model builds on.

Security: an estimator is saved by pickling it (``pickle``, ``joblib``), and, like every pickle, loading one runs
whatever code the file holds; lamina cannot make that safe. Unpickle only files you made. To share or deploy a fitted
network, export it with :func:`lamina.export.export` to ``safetensors`` or ``onnx`` (formats that hold no executable
Python), which :func:`lamina.export.load` reads safely.
"""

from lamina.sklearn.autoencoder_transformer import AutoencoderTransformer
from lamina.sklearn.base import LaminaEstimator
from lamina.sklearn.convergence import SklearnConvergence
from lamina.sklearn.dbn_classifier import DBNClassifier
from lamina.sklearn.hopfield_memory import HopfieldMemory
from lamina.sklearn.mlp_classifier import MLPClassifier
from lamina.sklearn.mlp_regressor import MLPRegressor
from lamina.sklearn.narx_forecaster import NARXForecaster
from lamina.sklearn.rbm_transformer import RBMTransformer
from lamina.sklearn.transformer import LaminaTransformer

__all__ = [
    "AutoencoderTransformer",
    "DBNClassifier",
    "HopfieldMemory",
    "LaminaEstimator",
    "LaminaTransformer",
    "MLPClassifier",
    "MLPRegressor",
    "NARXForecaster",
    "RBMTransformer",
    "SklearnConvergence",
]
