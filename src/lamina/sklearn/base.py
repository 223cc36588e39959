"""The base every lamina scikit-learn estimator builds on: input validation, seeding, training through
:class:`lamina.Trainer`, batched inference, and pickling through state dicts.

A wrapper supplies three things and inherits the rest (``fit``/``partial_fit`` plumbing, ``device``,
``random_state``, ``warm_start``, scikit-learn's stopping rule, pickling, ``get_params``/``set_params``):

- ``_module_spec(n_features, n_outputs) -> dict``: plain data describing the network (a lamina model config,
  or a model's constructor arguments), recorded at fit as ``module_spec_``;
- ``_module_from_spec(spec) -> nn.Module``: the network that data describes (also used when unpickling);
- ``_trainer_options(n_samples) -> dict``: ``loss``, ``optimizer``, ``batch_size``, ... for :class:`Trainer`.

A network that defines ``training_loss(batch)`` (an RBM, an autoencoder) is trained on it with ``y = None``;
see :class:`lamina.sklearn.transformer.LaminaTransformer`.

Beside it, one concept each: :mod:`~lamina.sklearn.params` (storing and checking the parameters),
:mod:`~lamina.sklearn.errors` (the diverged-fit error and where warnings point), :mod:`~lamina.sklearn.inference`
(batched inference, mixed into :class:`LaminaEstimator`) and :mod:`~lamina.sklearn.pickling` (devices and tensors
across pickling).
"""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np
import torch
from scipy import sparse
from sklearn.base import BaseEstimator
from sklearn.exceptions import ConvergenceWarning
from sklearn.utils.validation import validate_data
from torch import nn

from lamina.data.dataset import ArrayDataset
from lamina.errors import TrainingDivergedError
from lamina.sklearn.convergence import SklearnConvergence
from lamina.sklearn.errors import EstimatorDivergedError, caller_level, diverged_as_value_error
from lamina.sklearn.inference import BatchedInference
from lamina.sklearn.params import resolve_batch_size, seed_from, store_params
from lamina.sklearn.pickling import to_cpu, usable_device
from lamina.train.callbacks.base import Callback
from lamina.train.callbacks.progress import PlainProgress
from lamina.train.rng import resolve_device, seeded
from lamina.train.trainer import Trainer

__all__ = ["EstimatorDivergedError", "LaminaEstimator", "resolve_batch_size", "store_params"]


_FLOAT32_MAX = float(np.finfo(np.float32).max)


class LaminaEstimator(BatchedInference, BaseEstimator):
    """Base class (numpydoc in the subclasses). Parameters it reads when a subclass has them: ``random_state``,
    ``device``, ``verbose``, ``max_iter``, ``warm_start``, ``tol``, ``n_iter_no_change``.

    Fitted attributes it sets: ``module_`` (the ``torch.nn.Module``), ``module_spec_``, ``device_``,
    ``n_features_in_`` (and ``feature_names_in_``), ``n_iter_``, ``t_``, ``loss_``, ``loss_curve_``,
    ``best_loss_``, ``validation_scores_``, ``best_validation_score_``.
    """

    # the fitted attributes' types (declarations only: scikit-learn wants no fitted attribute before fit). module_
    # is Any because each estimator calls its own network's methods (transform, free_energy, window, ...)
    module_: Any
    module_spec_: dict[str, Any]
    device_: torch.device
    loss_curve_: list[float]
    best_loss_: float | None
    _seed_: int
    _trainer: Trainer | None
    _trainer_state: dict[str, Any] | None

    # the start of the message of a diverged fit (EstimatorDivergedError), before lamina's own; None: lamina's only
    _diverged_message: str | None = None

    # -- what a subclass supplies -------------------------------------------------------------------------

    def _module_spec(self, n_features: int, n_outputs: int | None) -> dict[str, Any]:
        """Plain data (numbers, strings, lists, dicts) describing the network for this data."""
        raise NotImplementedError(f"{type(self).__name__} must define _module_spec(n_features, n_outputs)")

    @classmethod
    def _module_from_spec(cls, spec: dict[str, Any]) -> nn.Module:
        """The network ``spec`` describes, freshly initialised."""
        raise NotImplementedError(f"{cls.__name__} must define _module_from_spec(spec)")

    def _trainer_options(self, n_samples: int) -> dict[str, Any]:
        """Keyword arguments for :class:`~lamina.train.Trainer`: ``loss``, ``optimizer``, ``batch_size``, ..."""
        raise NotImplementedError(f"{type(self).__name__} must define _trainer_options(n_samples)")

    def _pretrain(self, data: ArrayDataset) -> None:
        """Called on a freshly built ``module_`` before ``fit`` trains it (greedy pretraining); a no-op here."""

    # -- input --------------------------------------------------------------------------------------------

    def _validate_X(self, X: Any, *, reset: bool) -> np.ndarray:
        """``X`` as a dense float array with ``n_features_in_`` columns (recorded when ``reset``)."""
        X = validate_data(self, X, reset=reset, accept_sparse=["csr", "csc", "coo"], dtype=(np.float64, np.float32))
        return X.toarray() if sparse.issparse(X) else X

    @staticmethod
    def _as_tensor(array: np.ndarray, dtype: torch.dtype = torch.float32) -> torch.Tensor:
        array = np.asarray(array)
        if (
            dtype == torch.float32
            and array.dtype == np.float64
            and array.size
            and float(np.abs(array).max()) > _FLOAT32_MAX
        ):
            raise ValueError(
                "Input contains infinity or a value too large for dtype('float32'): lamina computes in "
                f"float32, whose largest value is {_FLOAT32_MAX:.4g}; scale the data"
            )
        # a copy: scikit-learn may hand over read-only memory maps, which torch.from_numpy cannot wrap, or views with
        # negative strides (X[::-1]), which torch refuses
        return torch.tensor(np.ascontiguousarray(array), dtype=dtype)

    # -- fitting ------------------------------------------------------------------------------------------

    def _fresh_module(self, n_features: int, n_outputs: int | None, *, keep: bool) -> bool:
        """Build ``module_`` unless ``keep`` (warm start, partial fit) and the fitted one suits the data."""
        spec = self._module_spec(n_features, n_outputs)
        if keep and hasattr(self, "module_") and spec == self.module_spec_:
            return False
        self._seed_ = seed_from(getattr(self, "random_state", None))
        with seeded(self._seed_):
            module = self._module_from_spec(spec)
        self.module_spec_, self.module_, self.device_ = spec, module, resolve_device(getattr(self, "device", "cpu"))
        self._trainer, self._trainer_state = None, None
        self.n_iter_, self.t_, self.loss_curve_ = 0, 0, []
        return True

    def _progress_callback(self) -> Callback:
        """What prints a line per epoch when ``verbose``: lamina's plain lines unless the estimator prints its
        scikit-learn counterpart's."""
        return PlainProgress()

    def _training_callbacks(self, n_samples: int) -> list[Callback]:
        """Callbacks the estimator adds to every trainer it makes (a learning-rate rule); none here."""
        return []

    def _stopping_options(self) -> dict[str, Any]:
        """Extra keyword arguments of the :class:`SklearnConvergence` rule (``adaptive``, ``verbose``)."""
        return {}

    def _prepare_trainer(self, trainer: Trainer, X: np.ndarray, *, incremental: bool) -> None:
        """Called before every ``fit``/``partial_fit`` trains, on a new or a reused trainer; a no-op here."""

    def _make_trainer(self, n_samples: int, callbacks: list, *, schedule: bool) -> Trainer:
        options = dict(self._trainer_options(n_samples))
        if not schedule:
            options.pop("schedule", None)
        callbacks = [*callbacks, *self._training_callbacks(n_samples)]
        if getattr(self, "verbose", False):
            callbacks = [self._progress_callback(), *callbacks]  # its line first, as scikit-learn prints it
        # silent itself: the estimator prints its own lines when `verbose` (scikit-learn's convention, not Keras's)
        return Trainer(self.module_, device=self.device_, seed=self._seed_, callbacks=callbacks, verbose=0, **options)

    def _train(
        self,
        X: np.ndarray,
        y: torch.Tensor | None,
        *,
        n_outputs: int | None,
        incremental: bool,
        score: Any = None,
        weights: torch.Tensor | None = None,
    ) -> None:
        """Fit ``module_`` on ``(X, y)``: ``max_iter`` epochs with scikit-learn's stopping rule, or, when
        ``incremental``, one more epoch continuing the optimizer's state (``partial_fit``).

        Args:
            X: validated inputs, ``(n_samples, n_features)``.
            y: encoded targets as a tensor, or ``None`` for a network trained on its own ``training_loss``.
            n_outputs: passed to ``_module_spec``.
            score: ``score(module) -> float`` on held-out data for early stopping, or ``None``.
        """
        new = self._fresh_module(X.shape[1], n_outputs, keep=incremental or getattr(self, "warm_start", False))
        targets: Any = y if weights is None else (y, weights)
        data = ArrayDataset(self._as_tensor(X), targets)
        if new and not incremental:
            self._pretrain(ArrayDataset(data.inputs, y))
        if incremental:
            trainer = self._trainer if self._trainer is not None else self._restore_trainer(len(X))
            # one epoch, no stopping rule, the learning rate where it is (scikit-learn's partial_fit)
            trainer.callbacks = [cb for cb in trainer.callbacks if not isinstance(cb, SklearnConvergence)]
            trainer.scheduler, trainer.schedule_spec = None, None
            self._prepare_trainer(trainer, X, incremental=True)
            with diverged_as_value_error(self._diverged_message):
                trainer.fit(data, epochs=trainer.epoch + 1)
            convergence = None
        else:
            patience = getattr(self, "n_iter_no_change", None)  # none: every epoch runs
            convergence = SklearnConvergence(
                tol=getattr(self, "tol", 0.0),
                score=score,
                n_iter_no_change=self.max_iter if patience is None else patience,
                **self._stopping_options(),
            )
            trainer = self._make_trainer(len(X), [convergence], schedule=True)
            self._prepare_trainer(trainer, X, incremental=False)
            try:
                with diverged_as_value_error(self._diverged_message):
                    trainer.fit(data, epochs=self.max_iter)
            except EstimatorDivergedError as err:
                if convergence.best_weights is None:  # no validation score, or none yet: nothing to fall back on
                    raise
                # scikit-learn keeps the best-scoring weights of an early-stopped fit that diverges later: so does
                # lamina (trainer.fit's on_train_end has put them back), with a NaN score for the diverged epoch
                self._trainer = trainer
                self._record(trainer, len(X), new, convergence, incremental, diverged=err)
                return
        self._trainer = trainer
        self._record(trainer, len(X), new, convergence, incremental)

    def _record(
        self,
        trainer: Trainer,
        n_samples: int,
        new: bool,
        convergence: SklearnConvergence | None,
        incremental: bool,
        diverged: TrainingDivergedError | None = None,
    ) -> None:
        """Copy what training logged onto the estimator, as scikit-learn names it (``diverged``: the error of an
        early-stopped fit whose last epoch diverged, counted with its non-finite loss and a NaN score)."""
        epochs = len(trainer.history) if not incremental else 1
        losses = [float(v) for v in trainer.history["loss"][-epochs:]]
        if diverged is not None and convergence is not None and convergence.scores is not None:
            epochs += 1
            losses.append(float(diverged.value) if diverged.value is not None else float("nan"))
            convergence.scores.append(float("nan"))
            warnings.warn(
                f"{type(self).__name__}: training diverged in epoch {diverged.epoch} ({diverged}); the weights of "
                "the best validation score are kept",
                ConvergenceWarning,
                stacklevel=caller_level(),
            )
        self.n_iter_ = self.n_iter_ + epochs if incremental else epochs  # scikit-learn: n_iter_ counts one fit
        self.t_ += epochs * n_samples
        self.loss_curve_ = [*self.loss_curve_, *losses]
        self.loss_ = losses[-1]
        self.module_.eval()
        if convergence is None:
            previous = None if new else getattr(self, "best_loss_", None)
            self.best_loss_ = min(self.loss_curve_) if previous is None else min(previous, self.loss_)
            return
        self.best_loss_ = convergence.best_loss
        self._no_improvement_count = convergence.no_improvement  # scikit-learn's name for the count
        self.validation_scores_, self.best_validation_score_ = convergence.scores, convergence.best_score
        # an estimator without a stopping rule (no n_iter_no_change: scikit-learn's BernoulliRBM runs n_iter epochs)
        # always runs them all; that is no sign of trouble, so only one with a rule warns
        if not convergence.converged and epochs == self.max_iter and hasattr(self, "n_iter_no_change"):
            warnings.warn(
                f"{type(self).__name__}: the maximum number of epochs (max_iter={self.max_iter}) was "
                "reached and the optimization hasn't converged yet.",
                ConvergenceWarning,
                stacklevel=caller_level(),
            )

    def _restore_trainer(self, n_samples: int) -> Trainer:
        """A trainer for ``partial_fit``, continuing the pickled optimizer state if there is one."""
        trainer = self._make_trainer(n_samples, [], schedule=False)
        state = getattr(self, "_trainer_state", None)
        if state is not None:
            trainer.load_state_dict({**state, "model": self.module_.state_dict(), "scheduler": None, "callbacks": []})
            self._trainer_state = None
        return trainer

    # -- pickling -----------------------------------------------------------------------------------------

    def __getstate__(self) -> dict[str, Any]:
        """The parameters and fitted attributes, with the network as a CPU state dict (no torch objects)."""
        state = dict(super().__getstate__())  # BaseEstimator may hand back __dict__ itself: never edit it
        module, trainer = state.pop("module_", None), state.pop("_trainer", None)
        if module is not None:
            state["_module_state"] = {k: v.detach().cpu() for k, v in module.state_dict().items()}
        if trainer is not None and trainer.optimizer is not None:
            kept = {k: v for k, v in trainer.state_dict().items() if k not in ("model", "callbacks", "scheduler")}
            state["_trainer_state"] = to_cpu(kept)
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        module_state = state.pop("_module_state", None)
        super().__setstate__(state)
        self._trainer = None
        if module_state is not None:
            self.device_ = usable_device(state.get("device_", "cpu"))  # fitted on a GPU, unpickled without one
            module = self._module_from_spec(self.module_spec_)
            module.load_state_dict(module_state)
            self.module_ = module.to(self.device_).eval()
