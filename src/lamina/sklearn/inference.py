"""Batched inference of a fitted scikit-learn estimator's network: in evaluation mode, in bounded batches on
``device_``, and for float64 inputs on a float64 copy of the network (kept until the weights change), whose outputs
then do not depend on batch composition or order. :class:`BatchedInference` holds it as methods of
:class:`~lamina.sklearn.base.LaminaEstimator` (which mixes it in)."""

from __future__ import annotations

import copy
import weakref
from typing import TYPE_CHECKING, Any

import numpy as np
import torch
from sklearn.utils.validation import check_is_fitted

__all__ = ["BatchedInference"]

_INFERENCE_BATCH = 8192  # rows per forward pass at predict time: bounded memory, few Python round trips
_INFERENCE_COPIES: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()  # module_ -> (key, its float64 copy)


class BatchedInference:
    """The inference methods of :class:`~lamina.sklearn.base.LaminaEstimator` (mixed into it): ``_outputs`` (the
    network's outputs for validated ``X``), ``_module_in`` (the network in evaluation mode, in a given dtype) and
    ``_inference_dtype``."""

    module_: Any
    device_: torch.device

    if TYPE_CHECKING:  # what LaminaEstimator provides

        def _validate_X(self, X: Any, *, reset: bool) -> np.ndarray: ...
        @staticmethod
        def _as_tensor(array: np.ndarray, dtype: torch.dtype = torch.float32) -> torch.Tensor: ...

    # -- inference ----------------------------------------------------------------------------------------

    def _inference_dtype(self, dtype: torch.dtype) -> torch.dtype:
        """``dtype``, or float32 on Apple's MPS, which has no float64."""
        return torch.float32 if self.device_.type == "mps" else dtype

    def _module_in(self, dtype: torch.dtype) -> Any:
        """``module_`` in evaluation mode, or an evaluation copy in ``dtype`` (float64 for float64 inputs, whose
        outputs then do not depend on batch composition or order: float32 GEMMs round differently by batch)."""
        check_is_fitted(self, "module_")
        dtype = self._inference_dtype(dtype)
        module = self.module_.eval()
        param = next(module.parameters(), None)
        if param is None or param.dtype == dtype:
            return module
        # the copy is kept until the weights change (every in-place update bumps a tensor's _version); outside the
        # estimator's __dict__, which scikit-learn requires predict to leave unchanged
        key = (dtype, tuple(t._version for t in module.state_dict().values()))
        cached = _INFERENCE_COPIES.get(module)
        if cached is None or cached[0] != key:
            cached = _INFERENCE_COPIES[module] = (key, copy.deepcopy(module).to(dtype).eval())
        return cached[1]

    @torch.no_grad()
    def _outputs(self, X: Any, *, method: str | None = None, dtype: torch.dtype = torch.float32) -> np.ndarray:
        """The network's outputs (or those of its ``method``, e.g. ``transform``) for validated ``X``, computed in
        batches on ``device_`` in ``dtype`` (a float64 copy of the network for ``torch.float64``)."""
        check_is_fitted(self, "module_")
        X = self._validate_X(X, reset=False)
        dtype = self._inference_dtype(dtype)
        module = self._module_in(dtype)
        forward = getattr(module, method) if method else module
        outs = []
        for start in range(0, len(X), _INFERENCE_BATCH):  # validate_data refuses zero rows
            batch = self._as_tensor(X[start : start + _INFERENCE_BATCH], dtype).to(self.device_)
            outs.append(forward(batch).to(dtype).cpu())
        return torch.cat(outs).numpy()
