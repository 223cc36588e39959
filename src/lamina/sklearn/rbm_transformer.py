"""``lamina.sklearn.RBMTransformer``: scikit-learn's ``BernoulliRBM`` interface on lamina's RBMs (Bernoulli or
Gaussian visible units, CD-k or persistent CD), trained by :class:`lamina.Trainer`."""

from __future__ import annotations

import copy
import time
from typing import Any

import numpy as np
import torch
from sklearn.base import ClassNamePrefixFeaturesOutMixin
from sklearn.utils.metaestimators import available_if
from sklearn.utils.validation import check_is_fitted
from torch import nn

from lamina.errors import DataError, did_you_mean
from lamina.generative import BernoulliRBM, GaussianBernoulliRBM, pseudo_log_likelihood
from lamina.sklearn.params import check_param, is_int, is_number, store_params
from lamina.sklearn.transformer import LaminaTransformer
from lamina.train.callbacks.base import Callback

__all__ = ["RBMTransformer", "check_unit_interval"]

VISIBLE_UNITS = ("bernoulli", "gaussian")
_SCORE_BATCH = 4096  # rows per pass of the pseudo-likelihood: n_features passes over (rows, n_components)


def _bernoulli_visible(estimator: Any) -> bool:
    visible = estimator._visible_units()
    if visible != "bernoulli":
        raise AttributeError(
            f"score_samples is the pseudo-likelihood of Bernoulli visible units; visible={visible!r} "
            "has none in closed form (score is minus the reconstruction error)"
        )
    return True


def check_unit_interval(X: np.ndarray, owner: str) -> None:
    """Raise a :class:`~lamina.errors.DataError` (a ``ValueError``) unless ``X`` lies in [0, 1], where Bernoulli
    visible units live; the message names ``owner``'s ``visible`` parameter and the two ways out."""
    lo, hi = float(X.min()), float(X.max())
    if not (lo >= 0 and hi <= 1):  # also catches NaN
        what = "Negative values" if lo < 0 else "Values above 1"  # scikit-learn's words for the first case
        raise DataError(
            f"{what} in data passed to {owner}(visible='bernoulli'), which models values in [0, 1] "
            f"(binary, or the probability that a unit is on); X holds values in [{lo:.4g}, {hi:.4g}]. "
            "Scale X into [0, 1] (MinMaxScaler) or, for real-valued data, use visible='gaussian' on "
            "standardised X"
        )


class RBMTransformer(ClassNamePrefixFeaturesOutMixin, LaminaTransformer):
    """Restricted Boltzmann machine feature extractor: ``transform(X)`` is ``p(h = 1 | v) = sigmoid(W v + c)``, the
    hidden units' probabilities, learned without labels by contrastive divergence (Hinton, 2002) or, by default as
    in scikit-learn's ``BernoulliRBM``, persistent contrastive divergence (Tieleman, 2008).

    The parameters mean what they mean in ``sklearn.neural_network.BernoulliRBM`` (plain SGD at ``learning_rate``
    on mini-batches of ``batch_size``, ``n_iter`` epochs, weights ``N(0, 0.01^2)``, zero biases), plus the number
    of Gibbs steps ``k``, CD or PCD, and Gaussian visible units for real-valued data (Hinton & Salakhutdinov, 2006).
    Training runs :class:`lamina.generative.BernoulliRBM` (or ``GaussianBernoulliRBM``) through
    :class:`lamina.Trainer`, on any ``device``.

    Parameters
    ----------
    n_components : int, default=256
        Hidden units.
    learning_rate : float or "auto", default="auto"
        SGD step on the mean CD update of a batch; ``"auto"`` is scikit-learn's 0.1 for Bernoulli units and 0.001
        (100 times less, stable on standardised data with the default 256 hidden units) for Gaussian ones.
    batch_size : int, default=10
        Examples per update (at most the number of examples); also the number of persistent chains.
    n_iter : int, default=10
        Epochs over the training set (no stopping rule, as scikit-learn's).
    k : int, default=1
        Gibbs steps of the negative phase (CD-k / PCD-k).
    persistent : bool, default=True
        Persistent chains (PCD, scikit-learn's algorithm) rather than chains started at the data (CD-k).
    reconstruction : {"probabilities", "samples"}, default="probabilities"
        The visible state the negative phase ends at: its mean (mean field, lamina's default) or a binary sample
        (scikit-learn's ``BernoulliRBM``). On digits (64 units, 10 epochs) the mean field reaches a held-out
        pseudo-likelihood of -19.2 nats and features a logistic regression classifies at 0.91, ``"samples"``
        -21.5 and 0.81, as scikit-learn's RBM (-21.4, 0.82): choose ``"samples"`` to train as scikit-learn does.
    visible : {"bernoulli", "gaussian"}, default="bernoulli"
        ``"bernoulli"``: binary visible units for data in [0, 1] (other values are refused at fit: scale them, e.g.
        with ``MinMaxScaler``); ``"gaussian"``: real-valued units of unit variance. Gaussian units standardise
        the data themselves (each feature to mean 0, variance 1 over the data ``fit`` sees, ``mean_`` and
        ``scale_``), as Gaussian-Bernoulli RBM practice does, so the defaults are stable on unscaled features;
        ``components_`` and ``intercept_visible_`` then refer to standardised features.
    verbose : bool, default=False
        Print scikit-learn's line per epoch, ``[RBMTransformer] Iteration 1, pseudo-likelihood = -25.39, time =
        0.12s`` (the class's name; the mean pseudo-likelihood of the training data, all features summed, where
        scikit-learn corrupts one random feature per row; Gaussian units print ``score`` as
        ``reconstruction score``).
    random_state : int, RandomState or None, default=None
        Seeds the initial weights, the chains and the shuffling.
    device : str, default="cpu"
        ``"cpu"``, ``"cuda"``, ``"cuda:1"``, ``"mps"`` or ``"auto"``.

    Attributes
    ----------
    mean_, scale_ : ndarray of shape (n_features,) or None
        ``visible="gaussian"``: the per-feature mean and standard deviation (1 for constant features) that
        standardise every input; ``None`` for Bernoulli units.
    components_ : ndarray of shape (n_components, n_features)
        The weights ``W`` (a copy). ``intercept_hidden_`` (n_components,), ``intercept_visible_`` (n_features,):
        the biases ``c`` and ``b``.
    module_ : BernoulliRBM or GaussianBernoulliRBM
        The trained RBM (its persistent chains in the buffer ``persistent_chain``).
    loss_curve_ : list of float
        Each epoch's mean CD surrogate, the free-energy gap ``mean F(v_data) - mean F(v_model)``.
    n_iter_, t_, n_features_in_, feature_names_in_
        Epochs run, examples seen, and the input's width and column names.

    Notes
    -----
    :meth:`score_samples` (Bernoulli units) is the pseudo-log-likelihood ``sum_i log p(v_i | v_-i)`` summed over
    every unit, where scikit-learn draws one unit per example and multiplies its term by ``n_features``: the same
    expectation without the sampling noise, so it does not depend on the rows beside it, at ``n_features`` times
    the cost, ``O(n_samples n_features^2 n_components)``. :meth:`score` is its mean (higher is better); for Gaussian
    units, whose likelihood needs the partition function, it is minus the mean squared reconstruction error.

    Deliberate differences from scikit-learn's ``BernoulliRBM`` training (measured in
    ``benchmarks/results/sklearn_parity.md``): the negative statistics use the persistent chains' mean
    reconstruction ``E[v | h]`` where scikit-learn uses their binary sample (the same expected update with less
    sampling noise; Hinton, 2010, sec. 3.2), so a model trained at scikit-learn's settings ends with a higher
    pseudo-likelihood (1.4-3 nats on the 8x8 digits); the rows are shuffled every epoch (scikit-learn's ``fit``
    visits them in order); and each batch's update is a mean over its rows and over the chains, where scikit-learn
    divides the chains' sum by the row count of a short last batch.

    References
    ----------
    .. [1] Smolensky (1986), "Information processing in dynamical systems: foundations of harmony theory".
    .. [2] Hinton (2002), "Training products of experts by minimizing contrastive divergence", Neural Computation.
    .. [3] Tieleman (2008), "Training restricted Boltzmann machines using approximations to the likelihood
       gradient", ICML.
    .. [4] Hinton & Salakhutdinov (2006), "Reducing the dimensionality of data with neural networks", Science.
    .. [5] Hinton (2010), "A practical guide to training restricted Boltzmann machines", UTML TR 2010-003.

    Examples
    --------
    >>> from sklearn.datasets import load_digits
    >>> from lamina.sklearn import RBMTransformer
    >>> X, _ = load_digits(return_X_y=True)
    >>> rbm = RBMTransformer(n_components=64, learning_rate=0.06, n_iter=5, random_state=0).fit(X / 16)
    >>> rbm.transform(X[:2] / 16).shape
    (2, 64)
    """

    def __init__(
        self,
        n_components: int = 256,
        *,
        learning_rate: float | str = "auto",
        batch_size: int = 10,
        n_iter: int = 10,
        k: int = 1,
        persistent: bool = True,
        reconstruction: str = "probabilities",
        visible: str = "bernoulli",
        verbose: bool = False,
        random_state: Any = None,
        device: str = "cpu",
    ) -> None:
        store_params(self, locals())

    @property
    def max_iter(self) -> int:
        """The epochs of :meth:`fit` (``n_iter``, scikit-learn's name for an RBM)."""
        return self.n_iter

    def _check_params(self) -> None:
        for name in ("n_components", "batch_size", "n_iter", "k"):
            value = getattr(self, name)
            check_param(is_int(value) and value >= 1, name, "a positive integer", value)
        rate = self.learning_rate
        check_param(
            rate == "auto" or (is_number(rate) and float(rate) > 0), "learning_rate", "'auto' or a number > 0", rate
        )
        check_param(isinstance(self.persistent, (bool, np.bool_)), "persistent", "True or False", self.persistent)
        check_param(
            self.reconstruction in ("probabilities", "samples"),
            "reconstruction",
            "'probabilities' or 'samples'",
            self.reconstruction,
        )
        if self.visible not in VISIBLE_UNITS:
            raise ValueError(
                f"`visible` must be one of {', '.join(map(repr, VISIBLE_UNITS))}, got "
                f"{self.visible!r};{did_you_mean(self.visible, VISIBLE_UNITS)}".rstrip(";")
            )

    def _visible_units(self) -> str:
        """The fitted RBM's visible units (``visible`` may have been set to another value since)."""
        return self.module_spec_["visible"] if hasattr(self, "module_spec_") else self.visible

    def _learning_rate(self) -> float:
        """``learning_rate``, with ``"auto"`` as 0.1 (scikit-learn's BernoulliRBM) or, for Gaussian units, 0.001."""
        if self.learning_rate != "auto":
            return float(self.learning_rate)
        return 0.001 if self.visible == "gaussian" else 0.1

    def _validate_X(self, X: Any, *, reset: bool) -> np.ndarray:
        """Validated ``X``; for Gaussian visible units standardised by the mean and standard deviation of the data
        ``fit`` (or the first ``partial_fit``) saw, kept as ``mean_`` and ``scale_``."""
        X = super()._validate_X(X, reset=reset)
        if reset:
            if self.visible == "gaussian":
                scale = X.std(axis=0, dtype=np.float64)
                mean = X.mean(axis=0, dtype=np.float64)
                self.mean_: np.ndarray | None = mean
                self.scale_: np.ndarray | None = np.where(scale > 1e-12 * np.maximum(1.0, np.abs(mean)), scale, 1.0)
            else:
                self.mean_, self.scale_ = None, None
        mean = getattr(self, "mean_", None)
        if mean is None:
            return X
        return ((X - mean) / self.scale_).astype(X.dtype, copy=False)

    def _check_data(self, X: np.ndarray) -> None:
        """Refuse data the visible units cannot model, naming the parameter that would."""
        if self.visible == "bernoulli":
            check_unit_interval(X, type(self).__name__)

    # -- the network --------------------------------------------------------------------------------------

    def _module_spec(self, n_features: int, n_outputs: int | None) -> dict[str, Any]:
        """The RBM's constructor arguments: units, CD steps and persistent chains."""
        return {
            "visible": self.visible,
            "n_visible": n_features,
            "n_hidden": int(self.n_components),
            "k": int(self.k),
            "reconstruction": self.reconstruction,
            "persistent_chains": int(self.batch_size) if self.persistent else 0,
        }

    @classmethod
    def _module_from_spec(cls, spec: dict[str, Any]) -> nn.Module:
        options = dict(spec)
        kind = GaussianBernoulliRBM if options.pop("visible") == "gaussian" else BernoulliRBM
        return kind(options.pop("n_visible"), options.pop("n_hidden"), **options)

    def _trainer_options(self, n_samples: int) -> dict[str, Any]:
        # plain SGD on the batch-mean CD update: scikit-learn's BernoulliRBM step
        return {
            "optimizer": {"type": "sgd", "lr": self._learning_rate()},
            "batch_size": min(self.batch_size, n_samples),
            "metrics": [],
        }

    # -- the estimator API --------------------------------------------------------------------------------

    def fit(self, X: Any, y: Any = None) -> RBMTransformer:
        """Train on ``X`` (n_samples, n_features) for ``n_iter`` epochs; ``y`` is ignored."""
        self._check_params()
        X = self._validate_X(X, reset=True)
        self._check_data(X)
        self._train(X, None, n_outputs=None, incremental=False)
        return self

    def partial_fit(self, X: Any, y: Any = None) -> RBMTransformer:
        """One epoch over ``X``, continuing the chains and the optimizer."""
        self._check_params()
        X = self._validate_X(X, reset=not hasattr(self, "module_"))
        self._check_data(X)
        self._train(X, None, n_outputs=None, incremental=True)
        return self

    @available_if(_bernoulli_visible)
    def score_samples(self, X: Any) -> np.ndarray:
        """The pseudo-log-likelihood ``sum_i log p(v_i | v_-i)`` of each row (all ``n_features`` terms), shape
        (n_samples,)."""
        check_is_fitted(self, "module_")
        X = self._validate_X(X, reset=False)
        compute = self._inference_dtype(torch.float64)  # so a row's score does not depend on the rows beside it
        module = self._module_in(compute)
        out = [
            pseudo_log_likelihood(
                module, self._as_tensor(X[s : s + _SCORE_BATCH], compute).to(self.device_), exact=True
            )
            for s in range(0, len(X), _SCORE_BATCH)
        ]
        return torch.cat(out).double().cpu().numpy()

    def score(self, X: Any, y: Any = None) -> float:
        """Mean pseudo-log-likelihood (Bernoulli units) or minus the mean squared reconstruction error summed
        over the features (Gaussian units); higher is better."""
        check_is_fitted(self, "module_")
        if self._visible_units() == "bernoulli":
            return float(np.mean(self.score_samples(X)))
        X = self._validate_X(X, reset=False)
        compute = self._inference_dtype(torch.float64)
        reconstruction = self._module_in(compute).reconstruct(self._as_tensor(X, compute).to(self.device_))
        return -float(((reconstruction.double().cpu().numpy() - X) ** 2).sum(axis=1).mean())

    def gibbs(self, v: Any) -> np.ndarray:
        """One Gibbs step ``v -> h ~ p(h | v) -> v' ~ p(v | h)`` from each row of ``v`` (n_samples, n_features),
        scikit-learn's ``BernoulliRBM.gibbs``: a 0/1 sample for Bernoulli units (a real-valued one, in the data's
        units, for Gaussian ones), in ``v``'s float dtype. Each call draws afresh, from a stream seeded by
        ``random_state``."""
        check_is_fitted(self, "module_")
        X = self._validate_X(v, reset=False)
        draws = getattr(self, "_gibbs_draws", 0)
        self._gibbs_draws = draws + 1  # the next call draws other samples, as scikit-learn's random_state_ does
        generator = torch.Generator(self.device_).manual_seed(self._seed_ + 1 + draws)
        module = self._module_in(torch.float32)
        sample = module.gibbs(self._as_tensor(X).to(self.device_), generator=generator).double().cpu().numpy()
        if getattr(self, "mean_", None) is not None:
            sample = sample * self.scale_ + self.mean_
        return sample.astype(X.dtype, copy=False)

    def _progress_callback(self) -> Callback:
        return _IterationScore(self)

    def _prepare_trainer(self, trainer: Any, X: np.ndarray, *, incremental: bool) -> None:
        for callback in trainer.callbacks:
            if isinstance(callback, _IterationScore):
                callback.X = X  # already validated (standardised for Gaussian units)
                callback.iteration = self.n_iter_ if incremental else 0

    # -- scikit-learn's fitted attributes -----------------------------------------------------------------

    @property
    def components_(self) -> np.ndarray:
        """The weights ``W``, (n_components, n_features) (a copy)."""
        return self.module_.weight.detach().cpu().numpy().copy()

    @property
    def intercept_hidden_(self) -> np.ndarray:
        """The hidden biases ``c``, (n_components,) (a copy)."""
        return self.module_.hidden_bias.detach().cpu().numpy().copy()

    @property
    def intercept_visible_(self) -> np.ndarray:
        """The visible biases ``b``, (n_features,) (a copy)."""
        return self.module_.visible_bias.detach().cpu().numpy().copy()

    @property
    def _n_features_out(self) -> int:
        return self.module_.n_hidden

    def __sklearn_tags__(self) -> Any:
        tags = super().__sklearn_tags__()
        tags.input_tags.positive_only = self.visible == "bernoulli"
        return tags


class _IterationScore(Callback):
    """scikit-learn's verbose line of its RBM, ``[Name] Iteration 3, pseudo-likelihood = -21.07, time = 0.05s``,
    scored on the epoch's (validated) training data ``X``."""

    def __init__(self, estimator: RBMTransformer) -> None:
        self.estimator, self.iteration = estimator, 0
        self.X: np.ndarray | None = None

    def on_epoch_begin(self, trainer: Any, epoch: int) -> None:
        """Start the epoch's clock."""
        self._start = time.perf_counter()

    def on_epoch_end(self, trainer: Any, epoch: int, logs: dict[str, float]) -> None:
        """Print the epoch's line."""
        self.iteration += 1
        est, X = self.estimator, self.X
        if X is None:
            return
        compute = est._inference_dtype(torch.float64)
        module = copy.deepcopy(trainer.model).to(compute).eval()
        x = est._as_tensor(X, compute).to(est.device_)
        if est._visible_units() == "bernoulli":
            name, value = "pseudo-likelihood", float(pseudo_log_likelihood(module, x, exact=True).mean())
        else:
            name, value = "reconstruction score", -float(((module.reconstruct(x) - x) ** 2).sum(dim=1).mean())
        module.train()  # the copy is discarded
        seconds = time.perf_counter() - self._start
        print(f"[{type(est).__name__}] Iteration {self.iteration}, {name} = {value:.2f}, time = {seconds:.2f}s")
