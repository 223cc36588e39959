"""Forecast errors: NMSE (Weigend's average relative variance), NRMSE and MAE, as functions and as trainer metrics
(``[train] metrics = ["nmse", "nrmse"]``).

``NMSE = sum_k (x_k - xhat_k)^2 / (N sigma^2)``: 1 is what always predicting the mean scores, 0 a perfect forecast.
Weigend, Huberman & Rumelhart (1990) call it the average relative variance (ARV). ``NRMSE = sqrt(NMSE)``
(Jaeger & Haas, 2004, report Mackey-Glass forecasts so). Both are unchanged by an affine rescaling of the series,
so they read the same on the scaled data a network is trained on and on the original units.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import torch

from lamina.config.component import spec_base
from lamina.errors import ShapeError
from lamina.metrics.standard import Metric, MetricSpec
from lamina.registry import register

__all__ = ["nmse", "nrmse", "mae", "NMSE", "NRMSE"]


def _pair(predicted: Any, actual: Any) -> tuple[np.ndarray, np.ndarray]:
    def _array(v: Any) -> np.ndarray:
        return np.asarray(v.detach().cpu().numpy() if isinstance(v, torch.Tensor) else v, dtype=np.float64)

    p, a = _array(predicted), _array(actual)
    if p.size != a.size:
        raise ShapeError(f"predicted values have shape {p.shape} and actual values {a.shape}; they must match")
    if a.size == 0:
        raise ValueError("no values to compare")
    return p.reshape(-1), a.reshape(-1)


def nmse(predicted: Any, actual: Any, *, variance: float | None = None) -> float:
    """Normalised mean squared error ``mean((actual - predicted)^2) / variance``.

    Args:
        predicted, actual: arrays or tensors with the same number of values.
        variance: the normaliser ``sigma^2``; default: the variance of ``actual`` itself (``mean_S`` of the
            evaluated period S, as in Weigend et al., 1990, eq. for arv(S)). Give the whole record's variance to
            compare errors across periods on one scale.

    Returns:
        float.

    References:
        Weigend, Huberman & Rumelhart (1990), Predicting the future: a connectionist approach. IJNS 1(3).
    """
    p, a = _pair(predicted, actual)
    var = float(a.var()) if variance is None else float(variance)
    if not var > 0:
        raise ValueError(
            f"the normalising variance must be > 0, got {var!r}"
            + (" (the actual values are constant)" if variance is None else "")
        )
    return float(np.mean((a - p) ** 2) / var)


def nrmse(predicted: Any, actual: Any, *, variance: float | None = None) -> float:
    """Normalised root mean squared error ``sqrt(NMSE)``: the RMSE in units of the standard deviation."""
    return math.sqrt(nmse(predicted, actual, variance=variance))


def mae(predicted: Any, actual: Any) -> float:
    """Mean absolute error ``mean(|actual - predicted|)``, in the series' units."""
    p, a = _pair(predicted, actual)
    return float(np.mean(np.abs(a - p)))


class NMSE(Metric):
    """NMSE over an evaluation set, accumulated batch by batch: ``SSE / (sum t^2 - (sum t)^2 / n)``.

    The sums are kept in float64 on the device (float32 on MPS, which lacks float64), so batching does not change
    the result beyond rounding.
    """

    name = "nmse"

    def __init__(self) -> None:
        super().__init__()
        self.reset()

    def reset(self) -> None:
        """Forget the accumulated sums."""
        self.sse: torch.Tensor | float = 0.0
        self.sum: torch.Tensor | float = 0.0
        self.sum_sq: torch.Tensor | float = 0.0
        self.count = 0

    def update(self, output: torch.Tensor, target: torch.Tensor) -> None:
        """Add one batch's squared errors and target sums (``output`` and ``target`` with the same number of values)."""
        dtype = torch.float32 if output.device.type == "mps" else torch.float64
        if output.numel() != target.numel():
            raise ShapeError(f"nmse: the output has shape {tuple(output.shape)} and the target {tuple(target.shape)}")
        o, t = output.detach().reshape(-1).to(dtype), target.detach().reshape(-1).to(dtype)
        self.sse = self.sse + (o - t).pow(2).sum()
        self.sum = self.sum + t.sum()
        self.sum_sq = self.sum_sq + t.pow(2).sum()
        self.count = self.count + t.numel()

    def _ratio(self) -> float:
        n = float(self.count)
        if not n:
            return float("nan")
        spread = float(self.sum_sq) - float(self.sum) ** 2 / n
        return float(self.sse) / spread if spread > 0 else float("nan")

    def compute(self) -> float:
        """The NMSE so far (NaN before any update or when the targets are constant)."""
        return self._ratio()


class NRMSE(NMSE):
    """NRMSE = sqrt(NMSE) over an evaluation set."""

    name = "nrmse"

    def compute(self) -> float:
        """The NRMSE so far (NaN before any update or when the targets are constant)."""
        value = self._ratio()
        return math.sqrt(value) if value == value else value


@register("metric", "nmse", aliases=("arv",))
class NMSESpec(spec_base(NMSE, MetricSpec)):  # type: ignore[misc]  # a base made by spec_base
    """Normalised mean squared error (Weigend's average relative variance, ARV)."""

    def build(self) -> Metric:
        """A fresh :class:`NMSE` metric."""
        return NMSE()


@register("metric", "nrmse")
class NRMSESpec(spec_base(NRMSE, MetricSpec)):  # type: ignore[misc]  # a base made by spec_base
    """Normalised root mean squared error, sqrt(NMSE)."""

    def build(self) -> Metric:
        """A fresh :class:`NRMSE` metric."""
        return NRMSE()
