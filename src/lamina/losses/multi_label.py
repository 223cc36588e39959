"""Multi-label classification: each example may carry any subset of ``K`` labels; the network has one logit per
label and the loss is the sum of the ``K`` per-label log losses (one independent logistic regression per label),

    L(y, t) = sum_k -[t_k log s(y_k) + (1 - t_k) log(1 - s(y_k))],    s the sigmoid,

averaged over examples. Metrics: ``accuracy`` (per label, i.e. one minus the Hamming loss) and ``subset_accuracy``
(every label of the example right).
"""

from __future__ import annotations

from typing import ClassVar

import torch
from torch import nn
from torch.nn import functional as F

from lamina.config.component import spec_base
from lamina.losses import LossSpec, matched_target
from lamina.metrics.standard import Metric, MetricSpec
from lamina.registry import register

__all__ = ["MultiLabelLossSpec", "MultiLabelLoss", "multi_label_loss", "SubsetAccuracy"]


def multi_label_loss(logits: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
    """``mean_n sum_k BCE(logits[n, k], targets[n, k])`` for logits and 0/1 targets of shape ``(N, K)``."""
    per_label = F.binary_cross_entropy_with_logits(logits, targets.to(logits.dtype), reduction="none")
    return per_label.reshape(len(logits), -1).sum(dim=1).mean()


class MultiLabelLoss(nn.Module):
    """:func:`multi_label_loss` as a module; targets must have the logits' shape."""

    def forward(self, output: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        return multi_label_loss(output, matched_target(output, target, "multi_label"))


@register("loss", "multi_label", aliases=("multilabel",))
class MultiLabelLossSpec(spec_base(MultiLabelLoss, LossSpec)):  # type: ignore[misc]  # a base made by spec_base
    """Sum over labels of the per-label log loss on logits, averaged over examples; targets ``(N, K)`` of 0/1
    (``binary_cross_entropy`` averages over labels instead, which scales the gradient by 1/K)."""

    default_metrics: ClassVar[tuple[str, ...]] = ("accuracy", "subset_accuracy")

    def build(self) -> nn.Module:
        """The loss module these options describe: a :class:`MultiLabelLoss`."""
        return MultiLabelLoss()


class SubsetAccuracy(Metric):
    """Fraction of examples whose every label is predicted right (logit > 0 means present)."""

    name = "subset_accuracy"

    def update(self, output: torch.Tensor, target: torch.Tensor) -> None:
        """Add one batch: logits and 0/1 targets ``(N, K)``; count the examples with every label right."""
        pred = output.reshape(target.shape) > 0
        exact = (pred == target.bool()).reshape(len(target), -1).all(dim=1)
        self.total = self.total + exact.sum()
        self.count = self.count + len(target)


@register("metric", "subset_accuracy", aliases=("exact_match",))
class SubsetAccuracySpec(spec_base(SubsetAccuracy, MetricSpec)):  # type: ignore[misc]  # a base made by spec_base
    """Multi-label exact match: all of an example's labels right."""

    def build(self) -> Metric:
        """A fresh :class:`SubsetAccuracy`."""
        return SubsetAccuracy()
