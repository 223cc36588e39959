"""Metrics accumulated over an epoch (``metrics = ["accuracy", { type = "top_k_accuracy", k = 5 }]``).

A metric keeps running sums as tensors on the training device, so updating it never waits for the device;
``compute()`` reads them once, at the end of the epoch.
"""

from __future__ import annotations

from typing import Annotated

import torch

from lamina.config.component import Bounds, spec_base, validated
from lamina.config.spec import Spec
from lamina.registry import register

__all__ = [
    "metric_state",
    "load_metric_state",
    "Metric",
    "MetricSpec",
    "Mean",
    "Accuracy",
    "TopKAccuracy",
    "MeanSquaredError",
    "MeanAbsoluteError",
]


class Metric:
    """A running average over batches: ``update(output, target)`` each batch, ``compute()`` at the end."""

    name: str = "metric"

    def __init__(self) -> None:
        self.total: torch.Tensor | float = 0.0
        self.count: torch.Tensor | float = 0

    def reset(self) -> None:
        """Forget everything accumulated."""
        self.total, self.count = 0.0, 0

    def update(self, output: torch.Tensor, target: torch.Tensor) -> None:
        """Add one batch."""
        raise NotImplementedError

    def compute(self) -> float:
        """The average so far (NaN before any update)."""
        count = float(self.count)
        return float(self.total) / count if count else float("nan")


def metric_state(metric: Metric) -> dict[str, object]:
    """A metric's running sums (its tensor and number attributes, and those of a metric it wraps), for a
    checkpoint taken inside an epoch."""
    state: dict[str, object] = {}
    for key, value in vars(metric).items():
        if isinstance(value, Metric):
            state[key] = metric_state(value)
        elif isinstance(value, (torch.Tensor, int, float)) and not isinstance(value, bool):
            state[key] = value
    return state


def load_metric_state(metric: Metric, state: dict[str, object], device: torch.device | None = None) -> None:
    """Restore :func:`metric_state` (tensors moved to ``device``)."""
    for key, value in state.items():
        if isinstance(value, dict):
            load_metric_state(getattr(metric, key), value, device)
        else:
            setattr(metric, key, value.to(device) if isinstance(value, torch.Tensor) and device is not None else value)


class Mean(Metric):
    """The mean of a per-batch value (the loss), weighted by batch size."""

    def __init__(self, name: str = "loss") -> None:
        super().__init__()
        self.name = name

    def add(self, value: torch.Tensor, n: int) -> None:
        """Add a batch mean ``value`` over ``n`` examples."""
        self.total = self.total + value.detach() * n
        self.count = self.count + n


def _class_predictions(output: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """Predicted labels: argmax over classes, or logit > 0 when there is one output per target (binary)."""
    if output.shape == target.shape or (output.dim() == target.dim() + 1 and output.shape[-1] == 1):
        return (output.reshape(target.shape) > 0).to(target.dtype)
    if output.dim() == 3 and target.dim() == 2 and output.shape[:2] == target.shape:  # (N, L, C) sequences
        return output.argmax(-1)
    return output.argmax(1)


class Accuracy(Metric):
    """Fraction of correct predictions (argmax of the logits; logit > 0 for binary outputs)."""

    name = "accuracy"

    def update(self, output: torch.Tensor, target: torch.Tensor) -> None:
        """Add one batch: count the correct predictions among the targets."""
        pred = _class_predictions(output, target)
        self.total = self.total + (pred == target).sum()
        self.count = self.count + target.numel()


class TopKAccuracy(Metric):
    """Fraction of examples whose label is among the ``k`` largest logits.

    Args:
        k: how many of the largest logits count as a hit.
    """

    @validated
    def __init__(self, k: Annotated[int, Bounds(ge=1)] = 5) -> None:
        super().__init__()
        self.k = k
        self.name = f"top{k}_accuracy"

    def update(self, output: torch.Tensor, target: torch.Tensor) -> None:
        """Add one batch: logits ``(N, C)`` and labels ``(N,)``; count labels among the top ``k``."""
        topk = output.topk(min(self.k, output.shape[1]), dim=1).indices  # (N, k)
        self.total = self.total + (topk == target.unsqueeze(1)).any(dim=1).sum()
        self.count = self.count + target.numel()


class MeanSquaredError(Metric):
    """Mean squared error per output value."""

    name = "mse"

    def update(self, output: torch.Tensor, target: torch.Tensor) -> None:
        """Add one batch: the summed squared differences and the number of values."""
        diff = output.reshape(target.shape) - target if output.numel() == target.numel() else output - target
        self.total = self.total + diff.pow(2).sum()
        self.count = self.count + diff.numel()


class MeanAbsoluteError(Metric):
    """Mean absolute error per output value."""

    name = "mae"

    def update(self, output: torch.Tensor, target: torch.Tensor) -> None:
        """Add one batch: the summed absolute differences and the number of values."""
        diff = output.reshape(target.shape) - target if output.numel() == target.numel() else output - target
        self.total = self.total + diff.abs().sum()
        self.count = self.count + diff.numel()


class MetricSpec(Spec):
    """A metric by name: ``build()`` returns a fresh :class:`Metric`."""

    def build(self) -> Metric:
        """A fresh accumulator."""
        raise NotImplementedError


@register("metric", "accuracy", aliases=("acc",))
class AccuracySpec(spec_base(Accuracy, MetricSpec)):  # type: ignore[misc]  # a base made by spec_base
    """Classification accuracy."""

    def build(self) -> Metric:
        """A fresh :class:`Accuracy`."""
        return Accuracy()


@register("metric", "top_k_accuracy", aliases=("top_k",))
class TopKAccuracySpec(spec_base(TopKAccuracy, MetricSpec)):  # type: ignore[misc]  # a base made by spec_base
    """Top-k accuracy (logged as ``top{k}_accuracy``); ``k`` is :class:`TopKAccuracy`'s, with its default and
    bounds."""

    def build(self) -> Metric:
        """A fresh :class:`TopKAccuracy` for this ``k``."""
        return TopKAccuracy(**self.options())


@register("metric", "mse", aliases=("mean_squared_error",))
class MSESpec(spec_base(MeanSquaredError, MetricSpec)):  # type: ignore[misc]  # a base made by spec_base
    """Mean squared error."""

    def build(self) -> Metric:
        """A fresh :class:`MeanSquaredError`."""
        return MeanSquaredError()


@register("metric", "mae", aliases=("mean_absolute_error",))
class MAESpec(spec_base(MeanAbsoluteError, MetricSpec)):  # type: ignore[misc]  # a base made by spec_base
    """Mean absolute error."""

    def build(self) -> Metric:
        """A fresh :class:`MeanAbsoluteError`."""
        return MeanAbsoluteError()
