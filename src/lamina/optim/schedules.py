"""Learning-rate schedules by name (``schedule = { type = "cosine", warmup_steps = 500 }``).

Every schedule is a factor ``f(t)`` multiplying the optimizer's base rate, with ``t`` counted in epochs or
optimizer steps (``interval``), times an optional linear warm-up over the first ``warmup_steps`` steps. The
trainer steps the scheduler after every optimizer step, so both kinds resume exactly from a checkpoint.
"""

from __future__ import annotations

import math

import torch
from torch.optim.lr_scheduler import LambdaLR

from lamina.config.fields import choice, count, number
from lamina.config.spec import Spec
from lamina.registry import register

__all__ = ["ScheduleSpec"]


class ScheduleSpec(Spec):
    """A learning-rate schedule.

    Args:
        interval: the unit of ``t`` in ``factor(t)``: ``epoch`` (the rate changes between epochs) or ``step``.
        warmup_steps: ramp the rate linearly from ``lr / warmup_steps`` to ``lr`` over this many steps
            (Goyal et al., 2017).
    """

    interval: choice("epoch", "step") = "epoch"
    warmup_steps: count(0) = 0

    def factor(self, t: int, total: int) -> float:
        """The rate multiplier at time ``t`` (in ``interval`` units) of a run lasting ``total`` of them."""
        raise NotImplementedError

    def build(self, optimizer: torch.optim.Optimizer, *, steps_per_epoch: int, epochs: int) -> LambdaLR:
        """A ``LambdaLR`` to be stepped after every optimizer step."""
        per_epoch = self.interval == "epoch"
        total = epochs if per_epoch else epochs * steps_per_epoch
        warmup = self.warmup_steps

        def _multiplier(step: int) -> float:
            t = step // steps_per_epoch if per_epoch else step
            warm = min(1.0, (step + 1) / warmup) if warmup else 1.0
            return warm * self.factor(t, total)

        return LambdaLR(optimizer, _multiplier)


@register("schedule", "constant", aliases=("warmup", "linear_warmup"))
class Constant(ScheduleSpec):
    """A fixed rate (after the optional warm-up): ``f(t) = 1``. As ``warmup``, set ``warmup_steps``."""

    def factor(self, t: int, total: int) -> float:
        """1."""
        return 1.0


@register("schedule", "step")
class StepDecay(ScheduleSpec):
    """Multiply the rate by ``gamma`` every ``step_size`` units: ``f(t) = gamma ** floor(t / step_size)``."""

    step_size: count() = 10
    gamma: number(0, 1, lo_open=True) = 0.1

    def factor(self, t: int, total: int) -> float:
        """``gamma ** floor(t / step_size)``."""
        return self.gamma ** (t // self.step_size)


@register("schedule", "multistep")
class MultiStepDecay(ScheduleSpec):
    """Multiply the rate by ``gamma`` at each milestone: ``f(t) = gamma ** #{m <= t}``."""

    milestones: list[count()]
    gamma: number(0, 1, lo_open=True) = 0.1

    def factor(self, t: int, total: int) -> float:
        """``gamma ** (number of milestones <= t)``."""
        return self.gamma ** sum(m <= t for m in self.milestones)


@register("schedule", "exponential")
class ExponentialDecay(ScheduleSpec):
    """``f(t) = gamma ** t``."""

    gamma: number(0, 1, lo_open=True) = 0.95

    def factor(self, t: int, total: int) -> float:
        """``gamma ** t``."""
        return self.gamma**t


@register("schedule", "inverse_time", aliases=("one_over_t",))
class InverseTimeDecay(ScheduleSpec):
    """1/t annealing: ``f(t) = 1 / (1 + decay * t)``, the Robbins-Monro condition's classic choice
    (sum of rates diverges, sum of squares converges)."""

    decay: number(0, lo_open=True) = 1.0

    def factor(self, t: int, total: int) -> float:
        """``1 / (1 + decay t)``."""
        return 1.0 / (1.0 + self.decay * t)


@register("schedule", "cosine")
class CosineDecay(ScheduleSpec):
    """Cosine annealing from 1 to ``min_factor`` over ``period`` units (default: the whole run)
    (Loshchilov & Hutter, 2017): ``f(t) = m + (1 - m) (1 + cos(pi t / T)) / 2``."""

    min_factor: number(0, 1) = 0.0
    period: count() | None = None

    def factor(self, t: int, total: int) -> float:
        """``m + (1 - m) (1 + cos(pi t / T)) / 2``, held at ``m`` after the period."""
        period = self.period or max(total, 1)
        progress = min(t, period) / period
        return self.min_factor + (1 - self.min_factor) * 0.5 * (1 + math.cos(math.pi * progress))


@register("schedule", "linear", aliases=("linear_decay",))
class LinearDecay(ScheduleSpec):
    """Linear decay from 1 to ``end_factor`` over the run: ``f(t) = 1 - (1 - e) t / T``."""

    end_factor: number(0, 1) = 0.0

    def factor(self, t: int, total: int) -> float:
        """``1 - (1 - end_factor) t / T``."""
        return 1.0 - (1.0 - self.end_factor) * min(t, total) / max(total, 1)
