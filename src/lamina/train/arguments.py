"""The :class:`~lamina.train.trainer.Trainer`'s arguments turned into objects: its metrics, its optimizer (and
whether that optimizer steps with a closure) and its learning-rate schedule, each given as a registered name or
table, or as an object already built."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import torch
from torch import nn

from lamina.errors import ConfigError
from lamina.metrics.standard import Metric
from lamina.registry import resolve

__all__ = ["PLATEAU", "build_metrics", "build_optimizer", "check_arguments", "resolve_schedule"]

_LR_SCHEDULER = torch.optim.lr_scheduler.LRScheduler
PLATEAU = torch.optim.lr_scheduler.ReduceLROnPlateau


def _build(kind: str, spec: Any, path: str, *args: Any, **kwargs: Any) -> Any:
    return resolve(kind, spec, path=path).build(*args, **kwargs)


def check_arguments(
    *,
    verbose: int,
    epochs: int,
    batch_size: int,
    grad_clip: float | None,
    l1: float,
    l2: float,
    precision: str,
) -> None:
    """Refuse a value of the trainer's plain arguments outside its range, naming the argument and the value."""
    if verbose not in (0, 1, 2) or isinstance(verbose, bool):
        raise ValueError(f"`verbose` must be 0 (silent), 1 (epoch lines and a bar) or 2 (epoch lines), got {verbose!r}")
    for name, value in (("epochs", epochs), ("batch_size", batch_size)):
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            raise ValueError(f"`{name}` must be a positive integer, got {value!r}")
    if grad_clip is not None and not grad_clip > 0:
        raise ValueError(f"`grad_clip` must be a positive number or None, got {grad_clip!r}")
    if l1 < 0 or l2 < 0:
        raise ValueError(f"`l1` and `l2` must be >= 0, got l1={l1!r}, l2={l2!r}")
    if precision not in ("fp32", "bf16", "fp16"):
        raise ValueError(f"`precision` must be one of 'fp32', 'bf16', 'fp16', got {precision!r}")


def resolve_schedule(schedule: Any, interval: str | None) -> tuple[Any, Any, str, str | None]:
    """``(spec, scheduler, interval, monitor)`` for the trainer's ``schedule`` argument.

    A lamina schedule (name or table) is a ``LambdaLR`` stepped after every optimizer step (its own ``interval``
    decides whether its factor changes per step or per epoch). A torch ``LRScheduler`` is stepped once per epoch
    unless ``interval="step"``; as in Lightning, ``{"scheduler": s, "interval": "step", "monitor": "val_loss"}``
    is accepted too, ``monitor`` naming the logged value a ``ReduceLROnPlateau`` watches.
    """
    monitor = None
    if isinstance(schedule, dict) and "scheduler" in schedule:
        unknown = sorted(set(schedule) - {"scheduler", "interval", "monitor"})
        if unknown:
            raise ValueError(f"`schedule` as a dict takes 'scheduler', 'interval' and 'monitor', got {unknown}")
        interval = schedule.get("interval", interval)
        monitor = schedule.get("monitor")
        schedule = schedule["scheduler"]
        if not isinstance(schedule, _LR_SCHEDULER):
            raise ValueError(f"`schedule['scheduler']` must be a torch LRScheduler, got {type(schedule).__name__}")
    if isinstance(schedule, _LR_SCHEDULER):
        interval = interval or "epoch"
        if interval not in ("epoch", "step"):
            raise ValueError(f"`schedule_interval` must be 'epoch' or 'step', got {interval!r}")
        if isinstance(schedule, PLATEAU) and interval != "epoch":
            raise ValueError(
                "`schedule_interval` must be 'epoch' for ReduceLROnPlateau: it watches an epoch's "
                "logged value (`monitor`)"
            )
        return None, schedule, interval, monitor
    if interval is not None or monitor is not None:
        raise ValueError(
            "`schedule_interval` applies to a torch LRScheduler; a lamina schedule (name or table) "
            "sets `interval` in its own table"
        )
    spec = None if schedule is None else resolve("schedule", schedule, path="train.schedule")
    return spec, None, "step", None


def build_metrics(metrics: Sequence[Any] | None, *, loss_spec: Any, uses_model_loss: bool) -> list[Metric]:
    """The trainer's metrics: ``metrics`` built (names, tables or :class:`Metric` objects), or by default those the
    loss's spec suggests; none for a model trained on its own ``training_loss`` unless asked for."""
    if uses_model_loss and not metrics:
        return []
    if metrics is not None and getattr(loss_spec, "heads", None):
        raise ConfigError(
            "train.metrics: a multi-task loss logs metrics per head; set them as train.loss.heads[i].metrics"
        )
    if metrics is None:
        metrics = list(getattr(loss_spec, "default_metrics", ()))
    return [m if isinstance(m, Metric) else _build("metric", m, f"train.metrics[{i}]") for i, m in enumerate(metrics)]


def build_optimizer(optimizer: Any, model: nn.Module) -> tuple[torch.optim.Optimizer | None, bool]:
    """The optimizer and whether its ``step`` needs a closure (L-BFGS, or ``needs_closure`` on it or its spec)."""

    def closure_kind(built: Any) -> bool:
        """Whether ``built.step`` takes a closure."""
        return bool(getattr(built, "needs_closure", False)) or isinstance(built, torch.optim.LBFGS)

    if optimizer is None or isinstance(optimizer, torch.optim.Optimizer):
        return optimizer, closure_kind(optimizer)
    params = [p for p in model.parameters() if p.requires_grad]
    if not params:
        raise ConfigError("the model has no trainable parameters to optimize")
    if callable(optimizer) and not isinstance(optimizer, (str, dict)) and not hasattr(optimizer, "build"):
        built = optimizer(params)
        return built, closure_kind(built)
    spec = resolve("optimizer", optimizer, path="train.optimizer")
    built = spec.build(params)
    return built, spec.needs_closure or closure_kind(built)
