"""The trainer's divergence checks: a NaN or infinite loss, or non-finite weights, stop training with
:class:`~lamina.errors.TrainingDivergedError` and never let non-finite weights into a checkpoint.

On the CPU each step's loss is checked at once, before the weights change. On an accelerator the check is queued on
the device (a flag and the first bad value) and read every :data:`FINITE_CHECK_EVERY` steps and at the epoch's end,
so the host never waits for the device on every batch. :class:`DivergenceChecks` holds these checks as methods of
:class:`~lamina.train.trainer.Trainer` (which mixes it in).
"""

from __future__ import annotations

import math
from typing import Any, cast

import torch
from torch import nn

from lamina.errors import TrainingDivergedError

__all__ = ["FINITE_CHECK_EVERY", "DivergenceChecks", "non_finite_loss"]

FINITE_CHECK_EVERY = 32  # steps between reads of the queued finiteness flag on an accelerator (see _check_finite)


def non_finite_loss(logs: dict[str, Any]) -> tuple[str, float] | None:
    """The first loss in an epoch's logs (``loss``, ``val_loss``, ``val_head_loss``, ...) that is NaN or infinite."""
    for name, value in logs.items():
        if name.endswith("loss") and isinstance(value, float) and not math.isfinite(value):
            return name, value
    return None


class DivergenceChecks:
    """The finite-loss and finite-weight checks of :class:`~lamina.train.trainer.Trainer` (mixed into it).

    They read and set the trainer's ``model``, counters (``epoch``, ``step``), stop flags and the state of the queued
    check (``_defer_finite``: whether the check is queued on the device; ``_nonfinite``: the queued flag and first bad
    value; ``_checked_step``: the step of the last read; ``_last_good``: the weights of the epoch's start).
    """

    model: nn.Module
    epoch: int
    step: int
    stop_training: bool
    stop_reason: str
    _last_good: dict[str, torch.Tensor] | None
    _defer_finite: bool
    _nonfinite: tuple[torch.Tensor, torch.Tensor] | None
    _checked_step: int

    def _weights_finite(self) -> bool:
        flags = [torch.isfinite(p).all() for p in self.model.parameters()]
        return bool(torch.stack(flags).all()) if flags else True  # one read of the device, not one per tensor

    def _check_finite(self, loss: torch.Tensor) -> None:
        """Stop on a non-finite batch loss. On the CPU at once, before the weights change. On an accelerator the
        test is queued (a device flag and the first bad value) and read by :meth:`_flush_finite` every
        ``FINITE_CHECK_EVERY`` steps and at the epoch's end: reading it each step would make the host wait for the
        device on every batch. A divergence found there restores the weights of the epoch's start if the steps
        since made them non-finite."""
        if not self._defer_finite:
            if not torch.isfinite(loss):
                self._diverged(loss)
            return
        bad = ~torch.isfinite(loss.detach())
        if self._nonfinite is None:
            self._nonfinite = (bad.clone(), loss.detach().float().clone())
        else:
            flag, value = self._nonfinite
            value.copy_(torch.where(bad & ~flag, loss.detach().float(), value))
            flag.logical_or_(bad)

    def _flush_finite(self) -> None:
        """Read the queued finiteness flag (see :meth:`_check_finite`) and stop if a loss since the last read was
        non-finite."""
        pending, self._nonfinite = self._nonfinite, None
        first, self._checked_step = self._checked_step + 1, self.step
        if pending is not None and bool(pending[0]):
            value = float(pending[1])
            self._diverged(
                value,
                where=f"the loss became {value} between steps {first} and {self.step} of epoch {self.epoch + 1}",
                step=self.step,
            )

    def _diverged(self, loss: torch.Tensor | float, *, where: str | None = None, step: int | None = None) -> None:
        """Stop with :class:`TrainingDivergedError`; non-finite weights are replaced by the epoch's first ones."""
        value = float(loss.detach()) if isinstance(loss, torch.Tensor) else float(loss)
        if self._weights_finite():
            kept = f"the weights after step {self.step} are kept"
        else:
            self.model.load_state_dict(cast(dict, self._last_good))  # fit sets it before each epoch's first step
            kept = f"the weights were non-finite too; those from the end of epoch {self.epoch} are restored"
        self.stop_training = True
        where = where or f"the loss became {value} at epoch {self.epoch + 1}, step {self.step + 1}"
        self.stop_reason = where
        raise TrainingDivergedError(
            f"{where}; training stopped and {kept}. Try a lower learning rate, gradient clipping "
            "(train.grad_clip), or check the data for NaN/inf values.",
            epoch=self.epoch + 1,
            step=self.step + 1 if step is None else step,
            value=value,
        )

    def _check_epoch(self, logs: dict[str, float]) -> None:
        """Divergence seen only at the end of an epoch: a non-finite mean or validation loss, or weights that the
        last step made non-finite."""
        bad = non_finite_loss(logs)
        if bad is not None:
            name, value = bad
            self._diverged(value, where=f"{name} became {value} at the end of epoch {self.epoch + 1}", step=self.step)
        if not self._weights_finite():
            self._diverged(
                float("nan"), where=f"the weights became non-finite in epoch {self.epoch + 1}", step=self.step
            )
