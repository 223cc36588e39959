"""Multi-task training: a model with several output heads, each with its own loss, target and metrics, trained on
the weighted sum of the heads' losses (the "additive cost function" of multi-task learning, Caruana, 1997)::

    L = sum_h  w_h * loss_h(output_h, target_h)

::

    [train]
    loss = { type = "multi_task", heads = [
      { name = "digit", loss = "cross_entropy" },
      { name = "parity", loss = "binary_cross_entropy", weight = 0.5 },
    ] }

Head ``h`` reads the model's ``h``-th output (the DAG's ``[model] outputs``, in order). Its target is the data's
``target``-th target (default: the ``h``-th); when the data has a single target, every head reads it, which is what
auxiliary classifiers want (GoogLeNet's two auxiliary heads, weight 0.3 each; Szegedy et al., 2015). Each head's
loss and metrics are logged under its name (``digit_loss``, ``val_parity_accuracy``).
"""

from __future__ import annotations

import copy
from collections.abc import Sequence
from typing import Any, ClassVar

import torch
from pydantic import model_validator
from torch import nn

from lamina.config.fields import component, count, identifier, number, raise_problems
from lamina.config.spec import Section
from lamina.errors import ConfigError
from lamina.losses import LossSpec
from lamina.metrics.standard import Metric
from lamina.registry import register, resolve

__all__ = ["HeadSpec", "MultiTaskLossSpec", "MultiTaskLoss", "HeadMetric", "HeadLoss", "select_target"]


def _as_tuple(value: Any) -> tuple:
    return tuple(value) if isinstance(value, (tuple, list)) else (value,)


def select_target(targets: Any, index: int, head: str) -> torch.Tensor:
    """The target of a head: ``targets[index]`` when the data gives several, else the single target.

    Raises:
        ConfigError: the data has fewer targets than ``index + 1``.
    """
    if not isinstance(targets, (tuple, list)):
        return targets
    if index >= len(targets):
        raise ConfigError(
            f"train.loss: head {head!r} has no target: it reads target {index}, but the data gives "
            f"{len(targets)} target(s) (0..{len(targets) - 1}); set the head's `target`"
        )
    return targets[index]


class HeadSpec(Section):
    """One head of a multi-task loss.

    Args:
        name: names its logged loss and metrics (default ``head0``, ``head1``, ...).
        loss: the head's loss (required).
        weight: its weight in the sum.
        target: which of the data's targets it reads (default: the head's position).
        metrics: logged for this head (default: those suited to its loss).
    """

    name: identifier | None = None
    loss: component("loss")
    weight: number(0) = 1.0
    target: count(0) | None = None
    metrics: list[component("metric")] | None = None


class MultiTaskLoss(nn.Module):
    """``sum_h w_h loss_h(outputs[h], targets[t_h])`` over the heads.

    Args:
        losses: one loss module per head.
        weights: the heads' weights.
        targets: the target index each head reads.
        names: the heads' names, for messages.
    """

    def __init__(
        self, losses: Sequence[nn.Module], weights: Sequence[float], targets: Sequence[int], names: Sequence[str]
    ) -> None:
        super().__init__()
        self.losses = nn.ModuleList(losses)
        self.weights, self.targets, self.names = list(weights), list(targets), list(names)

    def check_outputs(self, outputs: Any) -> tuple:
        """``outputs`` as a tuple with one entry per head, or a :class:`ConfigError` saying what is missing."""
        outs = _as_tuple(outputs)
        if len(outs) != len(self.losses):
            raise ConfigError(
                f"train.loss: {len(self.losses)} heads ({', '.join(self.names)}) but the model returns "
                f"{len(outs)} output(s); list one node per head in [model] outputs"
            )
        return outs

    def forward(self, outputs: Any, targets: Any) -> torch.Tensor:
        outs = self.check_outputs(outputs)
        total = 0.0
        for out, loss, weight, index, name in zip(outs, self.losses, self.weights, self.targets, self.names):
            total = total + weight * loss(out, select_target(targets, index, name))
        return total


class HeadMetric(Metric):
    """A metric of one head: ``metric.update(outputs[head], targets[target])``, logged as ``<name>_<metric>``."""

    def __init__(self, metric: Metric, head: int, target: int, name: str) -> None:
        super().__init__()
        self.metric, self.head, self.target = metric, head, target
        self.head_name = name
        self.name = f"{name}_{metric.name}"

    def reset(self) -> None:
        """Forget what the inner metric accumulated."""
        self.metric.reset()

    def update(self, output: Any, target: Any) -> None:
        """Add one batch: the inner metric on this head's output and its target."""
        self.metric.update(_as_tuple(output)[self.head], select_target(target, self.target, self.head_name))

    def compute(self) -> float:
        """The inner metric's value so far."""
        return self.metric.compute()

    def __copy__(self) -> HeadMetric:  # the trainer copies metrics for evaluation: copy the inner state too
        return HeadMetric(copy.copy(self.metric), self.head, self.target, self.head_name)


class HeadLoss(Metric):
    """The unweighted loss of one head, averaged over examples (logged as ``<name>_loss``)."""

    def __init__(self, loss: nn.Module, head: int, target: int, name: str) -> None:
        super().__init__()
        self.loss, self.head, self.target, self.head_name = loss, head, target, name
        self.name = f"{name}_loss"

    def update(self, output: Any, target: Any) -> None:
        """Add one batch: this head's loss on its output and target, weighted by the batch size."""
        out = _as_tuple(output)[self.head]
        n = len(out)
        self.total = self.total + self.loss(out, select_target(target, self.target, self.head_name)).detach() * n
        self.count = self.count + n


@register("loss", "multi_task", aliases=("multitask",))
class MultiTaskLossSpec(LossSpec):
    """Weighted sum of per-head losses, each head with its own target and metrics (Caruana, 1997).

    Args:
        heads: one table per model output: ``{ name, loss, weight = 1, target, metrics }``.
    """

    target_class: ClassVar[type] = MultiTaskLoss  # built from `heads` per head (see the consistency test)

    heads: list[HeadSpec]

    @model_validator(mode="after")
    def _check(self) -> MultiTaskLossSpec:
        problems = []
        if not self.heads:
            problems.append((("heads",), "a multi-task loss needs at least one head"))
        names = self.head_names()
        for i, (head, name) in enumerate(zip(self.heads, names)):
            if name in names[:i]:
                problems.append((("heads", i, "name"), f"name {name!r} is used twice"))
            if isinstance(head.loss, MultiTaskLossSpec):
                problems.append((("heads", i, "loss"), "a head's loss cannot itself be multi_task"))
        raise_problems("multi_task", problems)
        return self

    def head_names(self) -> list[str]:
        """Each head's name (``head<i>`` where none is given)."""
        return [h.name or f"head{i}" for i, h in enumerate(self.heads)]

    def target_indices(self) -> list[int]:
        """The target each head reads."""
        return [h.target if h.target is not None else i for i, h in enumerate(self.heads)]

    def build(self) -> nn.Module:
        """The loss module these options describe: a :class:`MultiTaskLoss` over the heads' built losses."""
        return MultiTaskLoss(
            [h.loss.build() for h in self.heads],
            [h.weight for h in self.heads],
            self.target_indices(),
            self.head_names(),
        )

    @property
    def default_metrics(self) -> list[Metric]:  # type: ignore[override]
        """Per head: its loss, then its metrics (``digit_loss``, ``digit_accuracy``, ...)."""
        metrics: list[Metric] = []
        for i, (head, name, target) in enumerate(zip(self.heads, self.head_names(), self.target_indices())):
            metrics.append(HeadLoss(head.loss.build(), i, target, name))
            specs = (
                head.metrics
                if head.metrics is not None
                else [resolve("metric", m, path=f"train.loss.heads[{i}].metrics") for m in head.loss.default_metrics]
            )
            metrics += [HeadMetric(spec.build(), i, target, name) for spec in specs]
        return metrics
