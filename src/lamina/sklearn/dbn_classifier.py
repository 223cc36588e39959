"""``lamina.sklearn.DBNClassifier``: a deep belief net classifier, i.e. :class:`MLPClassifier` with logistic hidden
layers pretrained greedily as a stack of RBMs, then fine-tuned by backpropagation."""

from __future__ import annotations

from typing import Any

import numpy as np

from lamina.errors import did_you_mean
from lamina.sklearn.mlp_classifier import MLPClassifier
from lamina.sklearn.params import check_param, is_int, is_number, store_params
from lamina.sklearn.rbm_transformer import VISIBLE_UNITS, check_unit_interval

__all__ = ["DBNClassifier"]


class DBNClassifier(MLPClassifier):
    """Deep belief net classifier (Hinton, Osindero & Teh, 2006; Hinton & Salakhutdinov, 2006): a stack of
    logistic hidden layers ``h_l = sigmoid(W_l h_{l-1} + c_l)`` and a softmax output.

    ``fit`` first trains one RBM per hidden layer, bottom up, each on the hidden probabilities of the one below
    (:func:`lamina.pretrain.pretrain_layerwise` with the ``"rbm"`` method, Bernoulli visible units; with
    ``visible="gaussian"`` a Gaussian-Bernoulli RBM under the first layer, for standardised real-valued data);
    ``p(h = 1 | v)`` of each RBM *is* its layer's forward pass, so the RBMs' ``W`` and ``c`` become the layers'
    weights. A softmax layer is then added on top and the whole network is fine-tuned on the cross-entropy, as
    :class:`MLPClassifier` trains (Hinton & Salakhutdinov's discriminative fine-tuning). The generative net with
    up-down fine-tuning and the class chosen by the top RBM's free energy is :class:`lamina.generative.DBN`.

    This is a preset of :class:`MLPClassifier` (``activation="logistic"``, ``pretrain`` built from the
    ``pretrain_*`` parameters below); ``predict_proba``, ``partial_fit`` (no pretraining), ``coefs_``,
    ``pretrained_layers_`` and ONNX export are the same.

    Parameters
    ----------
    hidden_layer_sizes : sequence of int, default=(256, 256)
        Units of each logistic hidden layer (Hinton et al. used 500-500-2000 on MNIST).
    pretrain_epochs : int, default=10
        Epochs of each RBM; 0 skips pretraining (a logistic MLP from Glorot-uniform weights).
    pretrain_learning_rate : float, default=0.1
        SGD step of the RBMs (momentum 0.5, then 0.9 from the fifth epoch; weight cost 0.0002: Hinton &
        Salakhutdinov's settings). A Gaussian first layer uses 0.01 times this.
    pretrain_batch_size : int, default=32
        Examples per RBM update (smaller than Hinton's 100, for data sets of thousands rather than 60,000).
    cd_k : int, default=1
        Gibbs steps of contrastive divergence.
    persistent : bool, default=False
        Persistent CD (Tieleman, 2008) rather than CD-k.
    visible : {"bernoulli", "gaussian"}, default="bernoulli"
        The first RBM's visible units: ``"bernoulli"`` for data in [0, 1] (other values are refused), or
        ``"gaussian"`` for standardised real-valued data.
    solver, alpha, batch_size, learning_rate, learning_rate_init, power_t, max_iter, shuffle, tol, \
n_iter_no_change, early_stopping, validation_fraction, momentum, nesterovs_momentum, beta_1, beta_2, epsilon, \
warm_start, random_state, verbose, schedule, device, max_fun
        Fine-tuning, as for :class:`MLPClassifier` (default Adam at 1e-3, up to 200 epochs).

    Attributes
    ----------
    classes_, module_, module_spec_, loss_, best_loss_, loss_curve_, n_iter_, n_features_in_, coefs_, \
intercepts_, pretrained_layers_
        As for :class:`MLPClassifier`; ``pretrained_layers_`` records each RBM's shape and final CD loss.

    References
    ----------
    .. [1] Hinton, Osindero & Teh (2006), "A fast learning algorithm for deep belief nets", Neural Computation 18.
    .. [2] Hinton & Salakhutdinov (2006), "Reducing the dimensionality of data with neural networks", Science 313.
    .. [3] Bengio, Lamblin, Popovici & Larochelle (2007), "Greedy layer-wise training of deep networks", NIPS.

    Examples
    --------
    >>> from sklearn.datasets import load_digits
    >>> from lamina.sklearn import DBNClassifier
    >>> X, y = load_digits(return_X_y=True)
    >>> dbn = DBNClassifier(hidden_layer_sizes=(128, 128), max_iter=30, random_state=0).fit(X / 16, y)
    >>> [layer["layer"] for layer in dbn.pretrained_layers_]
    ['dense_0', 'dense_1']
    """

    def __init__(
        self,
        hidden_layer_sizes: Any = (256, 256),
        *,
        pretrain_epochs: int = 10,
        pretrain_learning_rate: float = 0.1,
        pretrain_batch_size: int = 32,
        cd_k: int = 1,
        persistent: bool = False,
        visible: str = "bernoulli",
        solver: Any = "adam",
        alpha: float = 1e-4,
        batch_size: int | str = "auto",
        learning_rate: str = "constant",
        learning_rate_init: float = 1e-3,
        power_t: float = 0.5,
        max_iter: int = 200,
        shuffle: bool = True,
        tol: float = 1e-4,
        n_iter_no_change: int = 10,
        early_stopping: bool = False,
        validation_fraction: float = 0.1,
        momentum: float = 0.9,
        nesterovs_momentum: bool = True,
        beta_1: float = 0.9,
        beta_2: float = 0.999,
        epsilon: float = 1e-8,
        warm_start: bool = False,
        random_state: Any = None,
        verbose: bool = False,
        schedule: Any = None,
        device: str = "cpu",
        max_fun: int = 15000,
    ) -> None:
        store_params(self, locals())

    # what MLPClassifier takes as parameters and a deep belief net fixes
    activation = "logistic"
    layers = None
    input_shape = None
    init = "glorot_uniform"

    @property
    def pretrain(self) -> dict[str, Any] | None:
        """The ``[pretrain]`` table the ``pretrain_*`` parameters describe (``None`` when ``pretrain_epochs=0``)."""
        if self.pretrain_epochs == 0:
            return None
        # the paper's weight cost, as before the preset existed; chains: one per example of a batch
        return {
            "method": "gaussian_rbm" if self.visible == "gaussian" else "rbm",
            "epochs": self.pretrain_epochs,
            "preset": "hinton_salakhutdinov_2006",
            "batch_size": self.pretrain_batch_size,
            "k": self.cd_k,
            "persistent_chains": self.pretrain_batch_size if self.persistent else 0,
            "optimizer": {"type": "sgd", "lr": self.pretrain_learning_rate, "momentum": 0.5},
            "monitor_examples": 0,
            "plots": False,
        }  # no per-epoch monitoring or figures inside an estimator

    def _check_params(self) -> None:
        """Validate the DBN's own parameters (named as given), then the fine-tuning ones."""
        check_param(
            is_int(self.pretrain_epochs) and self.pretrain_epochs >= 0,
            "pretrain_epochs",
            "an integer >= 0",
            self.pretrain_epochs,
        )
        for name in ("pretrain_batch_size", "cd_k"):
            value = getattr(self, name)
            check_param(is_int(value) and value >= 1, name, "a positive integer", value)
        check_param(
            is_number(self.pretrain_learning_rate) and self.pretrain_learning_rate > 0,
            "pretrain_learning_rate",
            "a number > 0",
            self.pretrain_learning_rate,
        )
        check_param(isinstance(self.persistent, (bool, np.bool_)), "persistent", "True or False", self.persistent)
        if self.visible not in VISIBLE_UNITS:
            raise ValueError(
                f"`visible` must be one of {', '.join(map(repr, VISIBLE_UNITS))}, got "
                f"{self.visible!r};{did_you_mean(self.visible, VISIBLE_UNITS)}".rstrip(";")
            )
        super()._check_params()

    def fit(self, X: Any, y: Any) -> DBNClassifier:  # type: ignore[override]
        """Pretrain the hidden layers on ``X`` (n_samples, n_features), then fine-tune on the labels ``y``.
        Unlike :meth:`MLPClassifier.fit` it takes no ``sample_weight``: the RBM pretraining weighs every example
        alike (``partial_fit``, which fine-tunes only, takes one)."""
        return super().fit(X, y)

    def _pretrain(self, data: Any) -> None:
        """Refuse inputs outside [0, 1] for Bernoulli visible units (naming ``visible``), then pretrain the stack."""
        if self.pretrain is not None and self.visible == "bernoulli":
            check_unit_interval(data.x.numpy(), type(self).__name__)
        super()._pretrain(data)
