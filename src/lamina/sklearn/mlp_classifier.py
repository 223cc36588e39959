"""``lamina.sklearn.MLPClassifier``: scikit-learn's ``MLPClassifier`` interface, trained by lamina on PyTorch."""

from __future__ import annotations

from typing import Any

import numpy as np
import torch
from scipy.special import expit, log_softmax, softmax
from sklearn.base import ClassifierMixin
from sklearn.metrics import accuracy_score
from sklearn.utils.metaestimators import available_if
from sklearn.utils.multiclass import check_classification_targets, type_of_target
from sklearn.utils.validation import check_is_fitted, column_or_1d, validate_data

from lamina.sklearn.losses import SklearnLoss
from lamina.sklearn.mlp import BaseMLP
from lamina.sklearn.params import store_params

__all__ = ["MLPClassifier"]


def _stochastic(estimator: Any) -> bool:
    if estimator.solver in ("lbfgs", "l-bfgs"):
        raise AttributeError(
            f"partial_fit is only available for stochastic solvers; {estimator.solver!r} is not stochastic"
        )
    return True


class MLPClassifier(ClassifierMixin, BaseMLP):
    """Multi-layer perceptron classifier: softmax cross-entropy (or, for multi-label targets, one sigmoid
    cross-entropy per label) minimised by a lamina optimizer, with scikit-learn's ``MLPClassifier`` interface.

    The network is ``softmax(W_L f(... f(W_1 x + b_1) ...) + b_L)``; ``predict`` returns the most probable
    class. Any lamina layer stack can replace the dense hidden layers (``layers``), so a convolutional network
    is a classifier in a scikit-learn ``Pipeline`` too. Training runs through :class:`lamina.Trainer`.

    Parameters
    ----------
    hidden_layer_sizes : sequence of int, default=(100,)
        Units of each hidden dense layer.
    activation : str, default="relu"
        Hidden activation: scikit-learn's ``"identity"``, ``"logistic"``, ``"tanh"``, ``"relu"`` or any lamina
        activation name.
    solver : str or dict, default="adam"
        ``"adam"``, ``"sgd"``, ``"lbfgs"`` (as in scikit-learn: one L-BFGS run over the whole training set, in
        float64, of at most ``max_iter`` iterations and ``max_fun`` loss evaluations, stopping once no gradient
        entry exceeds ``tol``; ``early_stopping`` and ``batch_size`` do not apply), any lamina optimizer name, or a
        table such as ``{"type": "rmsprop", "lr": 0.01}`` (a ``{"type": "lbfgs"}`` table runs one L-BFGS step of
        its own options per epoch).
    alpha : float, default=1e-4
        L2 penalty, scaled as scikit-learn scales it: a batch of B examples adds ``alpha / (2 B) ||W||^2``.
    batch_size : int or "auto", default="auto"
        Examples per step; ``"auto"`` is ``min(200, n_samples)``.
    learning_rate : {"constant", "invscaling", "adaptive"}, default="constant"
        scikit-learn's learning-rate rule for ``solver="sgd"`` (the other solvers ignore it): ``"invscaling"``
        sets the rate after each epoch to ``learning_rate_init / (t + 1) ** power_t``, ``t`` the examples seen
        (``t_``); ``"adaptive"`` keeps ``learning_rate_init`` while the loss (or validation score) improves and,
        where scikit-learn's stopping rule would stop, divides the rate by 5 instead, stopping only once the rate
        is at most 1e-6. It cannot be combined with ``schedule``.
    learning_rate_init : float, default=1e-3
        The optimizer's learning rate.
    power_t : float, default=0.5
        The exponent of ``learning_rate="invscaling"``.
    max_iter : int, default=200
        Maximum epochs (``solver="lbfgs"``: L-BFGS iterations).
    shuffle : bool, default=True
        Draw a new order of the training examples every epoch; ``False`` steps through them in the data's order.
    tol : float, default=1e-4
        Least improvement of the loss (or validation score) that counts.
    n_iter_no_change : int, default=10
        Training stops after more than this many epochs without a ``tol`` improvement.
    early_stopping : bool, default=False
        Hold out ``validation_fraction`` (stratified), watch its accuracy, keep the best weights.
    validation_fraction : float, default=0.1
        Share of the training set held out when ``early_stopping``.
    momentum : float, default=0.9
        SGD momentum.
    nesterovs_momentum : bool, default=True
        Nesterov's momentum for SGD.
    beta_1, beta_2, epsilon : float, default=0.9, 0.999, 1e-8
        Adam's moment decay rates and denominator constant.
    warm_start : bool, default=False
        ``fit`` continues from the current weights (with a fresh optimizer) instead of starting over.
    random_state : int, RandomState or None, default=None
        Seeds the initial weights, shuffling, dropout and the early-stopping split.
    verbose : bool, default=False
        Print scikit-learn's line per epoch, ``Iteration 3, loss = 0.12345678`` (with ``early_stopping`` also
        ``Validation score: 0.950000``), and its message when training stops or the adaptive rate falls.
    layers : list of dict, default=None
        lamina layer tables replacing the hidden layers (``hidden_layer_sizes`` and ``activation`` are then
        unused), e.g. ``[{"type": "conv2d", "filters": 8, "kernel_size": 3, "activation": "relu"}]``.
    input_shape : tuple of int, default=None
        Reshape each row of ``X`` to this shape first (``(1, 8, 8)`` for convolutions on 8x8 images).
    init : str or None, default="glorot_uniform"
        Initializer of the dense layers' weights (``None``: torch's default).
    schedule : str or dict, default=None
        A lamina learning-rate schedule over ``max_iter`` epochs, e.g. ``"cosine"`` (``partial_fit`` ignores it).
    device : str, default="cpu"
        ``"cpu"``, ``"cuda"``, ``"cuda:1"``, ``"mps"`` or ``"auto"`` (the best available).
    pretrain : str, dict or LayerwisePretrainSpec, default=None
        Greedy layer-wise pretraining of the hidden dense layers before ``fit`` fine-tunes the whole network
        (``"rbm"`` with sigmoid hidden layers makes a deep belief net classifier; Hinton, Osindero & Teh, 2006);
        see :func:`lamina.pretrain.pretrain_layerwise`. ``partial_fit`` and warm starts do not pretrain.
    max_fun : int, default=15000
        ``solver="lbfgs"`` only: the most loss evaluations (line-search steps included) of one fit.

    Notes
    -----
    Deliberate differences from scikit-learn's ``MLPClassifier``:

    - The weights are float32 (``solver="lbfgs"`` runs on a float64 copy); inputs beyond float32's range are
      refused before training with an input error rather than diverging.
    - ``sample_weight`` follows scikit-learn >= 1.7: a batch's loss is ``sum_i w_i l_i / sum_i w_i`` and the
      penalty ``alpha / (2 sum_i w_i) ||W||^2``, so integer weights equal repeated rows; with ``early_stopping``
      the held-out accuracy is weighted too.
    - SGD's momentum is torch's (the velocity holds gradients, the rate applies at the step), which equals
      scikit-learn's (the velocity holds rate-scaled steps) while the rate is constant; after an ``invscaling``
      or ``adaptive`` change the first steps differ slightly.
    - The early-stopping split is stratified for every classification target with one label column (scikit-learn
      stratifies two-class targets only), so each class is held out in proportion.
    - Without sample weights the penalty of a batch is ``alpha / (2 batch_size) ||W||^2`` for every batch,
      including a smaller last one (scikit-learn divides by the last batch's own size).

    Attributes
    ----------
    classes_ : ndarray of shape (n_classes,)
        Class labels (for multi-label targets, the label indices).
    module_ : torch.nn.Module
        The trained network; it maps ``(n, n_features)`` float32 inputs to logits.
    module_spec_ : dict
        The lamina model config of ``module_`` (``layers`` and ``input_shape``).
    out_activation_ : str
        ``"softmax"`` or, for multi-label targets, ``"logistic"``.
    loss_, best_loss_ : float
        The last and the lowest training loss (``best_loss_`` is None with ``early_stopping``).
    loss_curve_ : list of float
        The training loss of each epoch (penalty included). ``solver="lbfgs"`` (where scikit-learn sets no
        ``loss_curve_``): the final loss of each fit, and ``best_loss_`` is None, as in scikit-learn.
    validation_scores_ : list of float or None
        Held-out accuracy after each epoch, with ``early_stopping``.
    best_validation_score_ : float or None
        The best of ``validation_scores_``.
    n_iter_ : int
        Epochs run by the last ``fit`` (``partial_fit`` adds one each call); ``solver="lbfgs"``: its L-BFGS
        iterations. ``t_``: training examples seen.
    n_features_in_ : int
        Number of features seen at fit. ``feature_names_in_``: their names, for a DataFrame with string columns.
    n_outputs_ : int
        Output units.
    pretrained_layers_ : list of dict
        With ``pretrain``: each pretrained layer's name, shape and final pretraining figures.

    References
    ----------
    .. [1] Rumelhart, Hinton & Williams (1986), "Learning representations by back-propagating errors", Nature.
    .. [2] Glorot & Bengio (2010), "Understanding the difficulty of training deep feedforward neural networks".
    .. [3] Kingma & Ba (2015), "Adam: A Method for Stochastic Optimization", ICLR.

    Examples
    --------
    >>> from sklearn.datasets import load_digits
    >>> from lamina.sklearn import MLPClassifier
    >>> X, y = load_digits(return_X_y=True)
    >>> clf = MLPClassifier(hidden_layer_sizes=(64,), max_iter=50, random_state=0).fit(X / 16, y)
    >>> clf.predict(X[:3] / 16)
    array([0, 1, 2])
    """

    def __init__(
        self,
        hidden_layer_sizes: Any = (100,),
        activation: str = "relu",
        *,
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
        layers: list | None = None,
        input_shape: tuple | None = None,
        init: str | None = "glorot_uniform",
        schedule: Any = None,
        device: str = "cpu",
        pretrain: Any = None,
        max_fun: int = 15000,
    ) -> None:
        store_params(self, locals())

    # -- labels -------------------------------------------------------------------------------------------

    @property
    def _loss(self) -> SklearnLoss:
        return SklearnLoss(self._sklearn_loss())

    def _sklearn_loss(self) -> str:
        return "binary_log_loss" if self.out_activation_ == "logistic" else "log_loss"

    def _set_classes(self, y: np.ndarray, classes: Any) -> None:
        """Fix ``classes_`` (from ``classes`` if given, else from ``y``) and the output layer's kind."""
        if type_of_target(y) == "multilabel-indicator":
            self.classes_, self.out_activation_ = np.arange(y.shape[1]), "logistic"
            return
        found = np.unique(np.asarray(classes) if classes is not None else y)
        if len(found) < 2:
            raise ValueError(
                f"{type(self).__name__} needs examples of at least 2 classes to learn from; y holds "
                f"1 class, {found[0]!r}"
            )
        self.classes_, self.out_activation_ = found, "softmax"

    def _labels(self, y: Any) -> np.ndarray:
        check_classification_targets(y)
        kind = type_of_target(y)
        if kind == "multiclass-multioutput":
            raise ValueError(
                f"{type(self).__name__} does not support multi-output multi-class targets; give one "
                "column of labels, or a 0/1 indicator matrix for multi-label classification"
            )
        return np.asarray(y) if kind == "multilabel-indicator" else column_or_1d(y, warn=True)

    def _targets(self, y: np.ndarray) -> torch.Tensor:
        if self.out_activation_ == "logistic":
            if y.ndim != 2 or y.shape[1] != len(self.classes_):
                raise ValueError(f"multi-label y must have {len(self.classes_)} columns, got shape {y.shape}")
            return torch.as_tensor(np.ascontiguousarray(y, dtype=np.float32))
        unseen = np.setdiff1d(y, self.classes_)
        if len(unseen):
            raise ValueError(f"y holds classes {unseen.tolist()} that are not in classes_ {self.classes_.tolist()}")
        return torch.as_tensor(np.searchsorted(self.classes_, y), dtype=torch.long)

    def _score_outputs(self, outputs: np.ndarray, y: np.ndarray, weights: np.ndarray | None = None) -> float:
        return float(accuracy_score(y, self._decide(outputs), sample_weight=weights))

    def _decide(self, outputs: np.ndarray) -> np.ndarray:
        if self.out_activation_ == "logistic":
            return (outputs > 0).astype(int)  # sigmoid(z) > 1/2  <=>  z > 0
        return self.classes_[outputs.argmax(axis=1)]

    # -- the estimator API --------------------------------------------------------------------------------

    def fit(self, X: Any, y: Any, sample_weight: Any = None) -> MLPClassifier:
        """Train on ``X`` (n_samples, n_features) and class labels ``y`` (or a 0/1 indicator matrix), each
        example's loss weighted by ``sample_weight`` (n_samples,) if given."""
        X, y = validate_data(
            self, X, y, accept_sparse=["csr", "csc", "coo"], dtype=(np.float64, np.float32), multi_output=True
        )
        X, y = (X.toarray() if hasattr(X, "toarray") else X), self._labels(y)
        previous = getattr(self, "classes_", None) if self.warm_start else None
        self._set_classes(y, None)
        if previous is not None and not np.array_equal(previous, self.classes_):
            found = self.classes_
            self.classes_ = previous  # the fitted model keeps its classes
            raise ValueError(
                "warm_start can only be used where `y` has the same classes as in the previous call to fit. "
                f"Previously got {previous}, `y` has {found}"
            )
        self.n_outputs_ = len(self.classes_)
        self._fit_mlp(
            X,
            y,
            self._targets,
            self.n_outputs_,
            incremental=False,
            stratify=self.out_activation_ == "softmax",
            sample_weight=sample_weight,
        )
        return self

    @available_if(_stochastic)
    def partial_fit(self, X: Any, y: Any, sample_weight: Any = None, classes: Any = None) -> MLPClassifier:
        """One epoch over ``(X, y)`` (weighted by ``sample_weight``), continuing the optimizer's state;
        ``classes`` is required on the first call (all the labels there will ever be)."""
        first = not hasattr(self, "classes_")
        if first and classes is None:
            raise ValueError("classes must be passed on the first call to partial_fit")
        X, y = validate_data(
            self,
            X,
            y,
            reset=first,
            accept_sparse=["csr", "csc", "coo"],
            dtype=(np.float64, np.float32),
            multi_output=True,
        )
        X, y = (X.toarray() if hasattr(X, "toarray") else X), self._labels(y)
        if first:
            self._set_classes(y, classes)
            self.n_outputs_ = len(self.classes_)
        elif classes is not None and not np.array_equal(np.unique(classes), self.classes_):
            raise ValueError(f"`classes={list(classes)!r}` differs from the first call's {self.classes_.tolist()}")
        self._fit_mlp(
            X, y, self._targets, self.n_outputs_, incremental=True, stratify=False, sample_weight=sample_weight
        )
        return self

    def predict(self, X: Any) -> np.ndarray:
        """The most probable class of each row (for multi-label targets, a 0/1 row per example)."""
        return self._decide(self._outputs(X))

    def predict_proba(self, X: Any) -> np.ndarray:
        """Class probabilities, shape (n_samples, n_classes), columns in the order of ``classes_``."""
        outputs = self._outputs(X).astype(np.float64)  # float64: rows sum to 1 to machine precision
        return expit(outputs) if self.out_activation_ == "logistic" else softmax(outputs, axis=1)

    def predict_log_proba(self, X: Any) -> np.ndarray:
        """The logarithm of :meth:`predict_proba`: from the logits (``log_softmax``) for classes, and for
        multi-label targets ``log(predict_proba)`` as scikit-learn computes it, so that both agree on the
        most probable label even where the sigmoid rounds to 1."""
        check_is_fitted(self, "module_")
        if self.out_activation_ == "logistic":
            return np.log(self.predict_proba(X))
        return log_softmax(self._outputs(X).astype(np.float64), axis=1)

    def __sklearn_tags__(self) -> Any:
        tags = super().__sklearn_tags__()
        tags.input_tags.sparse = True
        tags.classifier_tags.multi_label = True
        return tags
