"""Affine scaling of a series, fitted on the training part only (so no statistic of the test period leaks into
training), and its inverse for reading forecasts in the series' own units.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch

__all__ = ["SeriesScaler"]

_METHODS = ("standard", "minmax", "none")


class SeriesScaler:
    """``x' = (x - shift) / scale``, per column.

    - ``standard``: shift = mean, scale = standard deviation (zero mean, unit variance on the training part);
    - ``minmax``: shift = min, scale = max - min (the training part spans [0, 1]; Weigend et al., 1990, scaled
      the sunspot numbers into [0, 1] likewise);
    - ``none``: the identity.

    A constant training column (scale 0) keeps scale 1 rather than dividing by zero.

    Args:
        method: ``"standard"``, ``"minmax"`` or ``"none"``.

    Example:
        >>> scaler = SeriesScaler("standard").fit(train)
        >>> forecast = scaler.inverse_transform(model_output)
    """

    def __init__(self, method: str = "standard") -> None:
        if method not in _METHODS:
            raise ValueError(f"`method` must be one of {', '.join(map(repr, _METHODS))}, got {method!r}")
        self.method = method
        self.shift_: np.ndarray | None = None
        self.scale_: np.ndarray | None = None

    def fit(self, values: Any) -> SeriesScaler:
        """Fit on ``values`` (``(T,)`` or ``(T, features)``), the training part of the series."""
        array = np.asarray(values, dtype=np.float64)
        if array.size == 0:
            raise ValueError("cannot fit a scaler on an empty series")
        if self.method == "standard":
            shift, scale = array.mean(axis=0), array.std(axis=0)
        elif self.method == "minmax":
            shift, scale = array.min(axis=0), array.max(axis=0) - array.min(axis=0)
        else:
            shift, scale = np.zeros(array.shape[1:]), np.ones(array.shape[1:])
        self.shift_ = np.asarray(shift, dtype=np.float64)
        self.scale_ = np.where(np.asarray(scale) > 0, scale, 1.0)
        return self

    def _fitted(self) -> tuple[np.ndarray, np.ndarray]:
        if self.shift_ is None or self.scale_ is None:
            raise RuntimeError("this SeriesScaler is not fitted yet; call fit(training values) first")
        return self.shift_, self.scale_

    def transform(self, values: Any) -> Any:
        """``(x - shift) / scale``; a tensor stays a tensor (same dtype and device)."""
        shift, scale = self._fitted()
        if isinstance(values, torch.Tensor):
            return (values - torch.as_tensor(shift, dtype=values.dtype, device=values.device)) / torch.as_tensor(
                scale, dtype=values.dtype, device=values.device
            )
        return (np.asarray(values, dtype=np.float64) - shift) / scale

    def inverse_transform(self, values: Any) -> Any:
        """``x' * scale + shift``, the series' own units; a tensor stays a tensor."""
        shift, scale = self._fitted()
        if isinstance(values, torch.Tensor):
            return values * torch.as_tensor(scale, dtype=values.dtype, device=values.device) + torch.as_tensor(
                shift, dtype=values.dtype, device=values.device
            )
        return np.asarray(values, dtype=np.float64) * scale + shift

    def fit_transform(self, values: Any) -> Any:
        """:meth:`fit` then :meth:`transform` on the same values."""
        return self.fit(values).transform(values)

    def __repr__(self) -> str:
        if self.shift_ is None:
            return f"SeriesScaler({self.method!r}, not fitted)"
        shift, scale = np.round(self.shift_, 6).tolist(), np.round(self.scale_, 6).tolist()
        return f"SeriesScaler({self.method!r}, shift={shift}, scale={scale})"
