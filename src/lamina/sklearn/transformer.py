"""The base of lamina's unsupervised scikit-learn transformers (RBM, autoencoders): ``fit(X)`` minimises the
network's own ``training_loss``, ``transform(X)`` returns its ``transform``.

A wrapper is a few lines on top: its ``__init__`` stores the parameters, ``_module_spec``/``_module_from_spec``
build the model, ``_trainer_options`` picks the optimizer (``tests/sklearn/toy.py``; the full ones are
:class:`~lamina.sklearn.RBMTransformer` and :class:`~lamina.sklearn.AutoencoderTransformer`)::

    class TinyAutoencoderTransformer(LaminaTransformer):
        def __init__(self, n_components=64, *, learning_rate=1e-3, batch_size=64, max_iter=20, tol=1e-4,
                     n_iter_no_change=10, random_state=None, device="cpu"):
            ...  # store each argument

        def _module_spec(self, n_features, n_outputs):
            return {"n_visible": n_features, "n_hidden": self.n_components}

        @classmethod
        def _module_from_spec(cls, spec):
            return TinyAutoencoder(**spec)

        def _trainer_options(self, n_samples):
            return {"optimizer": {"type": "adam", "lr": self.learning_rate},
                    "batch_size": min(self.batch_size, n_samples)}
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch
from sklearn.base import TransformerMixin
from sklearn.utils.validation import check_is_fitted

from lamina.sklearn.base import LaminaEstimator

__all__ = ["LaminaTransformer"]


class LaminaTransformer(TransformerMixin, LaminaEstimator):
    """Base of the unsupervised estimators wrapping a network with ``training_loss(batch)`` and ``transform(x)``.

    A subclass has a ``max_iter`` parameter (epochs of ``fit``) and may have ``tol``, ``n_iter_no_change``,
    ``random_state``, ``device``, ``verbose`` and ``warm_start``.

    ``fit`` runs ``max_iter`` epochs (stopping by scikit-learn's rule on the training loss when the subclass has
    ``tol`` and ``n_iter_no_change``); ``partial_fit`` runs one; ``transform`` returns the network's features
    computed in ``X``'s float dtype; ``inverse_transform`` maps features back where the network defines
    ``inverse_transform``; ``score`` is the negative mean ``training_loss`` (higher is better), which
    ``GridSearchCV`` can maximise without a scorer.
    """

    def fit(self, X: Any, y: Any = None) -> LaminaTransformer:
        """Train on ``X`` (n_samples, n_features); ``y`` is ignored."""
        X = self._validate_X(X, reset=True)
        self._train(X, None, n_outputs=None, incremental=False)
        return self

    def partial_fit(self, X: Any, y: Any = None) -> LaminaTransformer:
        """One epoch over ``X``, continuing the optimizer's state."""
        X = self._validate_X(X, reset=not hasattr(self, "module_"))
        self._train(X, None, n_outputs=None, incremental=True)
        return self

    def transform(self, X: Any) -> np.ndarray:
        """The network's features of each row, computed and returned in ``X``'s float dtype (float64 unless
        ``X`` is float32)."""
        dtype = _float_dtype(X)
        return self._outputs(X, method="transform", dtype=_torch_dtype(dtype)).astype(dtype, copy=False)

    def inverse_transform(self, X: Any) -> np.ndarray:
        """Map features back to the input space (networks defining ``inverse_transform`` only), computed and
        returned in ``X``'s float dtype."""
        check_is_fitted(self, "module_")
        if not hasattr(self.module_, "inverse_transform"):
            raise AttributeError(f"{type(self.module_).__name__} defines no inverse_transform")
        dtype = _float_dtype(X)
        compute = self._inference_dtype(_torch_dtype(dtype))
        module = self._module_in(compute)
        with torch.no_grad():
            out = module.inverse_transform(torch.as_tensor(np.asarray(X), dtype=compute, device=self.device_))
        return out.cpu().numpy().astype(dtype, copy=False)

    @torch.no_grad()
    def score(self, X: Any, y: Any = None) -> float:
        """``-mean training_loss`` over ``X`` (higher is better)."""
        check_is_fitted(self, "module_")
        X = self._validate_X(X, reset=False)
        module = self.module_.eval()
        total = 0.0
        for start in range(0, len(X), 8192):
            batch = self._as_tensor(X[start : start + 8192]).to(self.device_)
            total += float(module.training_loss((batch, None))) * len(batch)
        return -total / max(len(X), 1)

    def __sklearn_tags__(self) -> Any:
        tags = super().__sklearn_tags__()
        tags.input_tags.sparse = True
        tags.target_tags.required = False
        tags.transformer_tags.preserves_dtype = ["float64", "float32"]
        return tags


def _torch_dtype(dtype: np.dtype) -> torch.dtype:
    return torch.float32 if dtype == np.float32 else torch.float64


def _float_dtype(X: Any) -> np.dtype:
    dtype = getattr(X, "dtype", None)
    return dtype if dtype in (np.float32, np.float64) else np.dtype(np.float64)
