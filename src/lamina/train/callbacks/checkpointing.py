"""Save ``checkpoints/last.pt`` every few epochs (and, in long epochs, every few steps or minutes) and
``checkpoints/best.pt`` when the monitored metric improves. A checkpoint is never written with non-finite weights
or losses, so a diverged run keeps its last good one."""

from __future__ import annotations

import math
import time
from pathlib import Path
from typing import Any

import torch

from lamina.train.callbacks.base import Callback
from lamina.train.checkpoint import save_checkpoint

__all__ = ["Checkpointer"]


class Checkpointer(Callback):
    """Write the trainer's full state atomically; runs after every other callback so their state is included.

    Args:
        folder: where ``last.pt`` and ``best.pt`` go.
        every: epochs between ``last.pt`` writes (the final epoch is always written).
        monitor: the metric deciding ``best.pt`` (``None``: no best checkpoint); ``mode`` ``min`` or ``max``.
        follow: an :class:`EarlyStopping` whose notion of "best" to use instead, so that ``best.pt`` holds exactly
            the weights it restores.
        meta: extra entries stored beside the state (the resolved config, ...).
        every_steps: also write ``last.pt`` inside an epoch every this many optimizer steps (``None``: never).
        every_minutes: also write ``last.pt`` inside an epoch when this many minutes have passed since the last
            checkpoint (``None`` or 0: never). The trainer's state then holds its position in the epoch.
    """

    def __init__(
        self,
        folder: str | Path,
        *,
        every: int = 1,
        monitor: str | None = "val_loss",
        mode: str = "min",
        follow: Any = None,
        meta: dict[str, Any] | None = None,
        every_steps: int | None = None,
        every_minutes: float | None = None,
    ) -> None:
        self.folder, self.every, self.monitor, self.mode = Path(folder), every, monitor, mode
        self.every_steps = every_steps
        self.every_seconds = every_minutes * 60 if every_minutes else None
        self._saved_at = time.monotonic()
        self.follow = follow
        self.meta = meta or {}
        self.best = math.inf if mode == "min" else -math.inf

    def on_train_begin(self, trainer: Any) -> None:
        """Start the clock of time-based checkpoints."""
        self._saved_at = time.monotonic()

    def _save(self, trainer: Any, state: dict[str, Any], path: Path, **extra: Any) -> None:
        state["callbacks"][trainer.callbacks.index(self)] = self.state_dict()
        save_checkpoint(state, path, **self.meta, **extra)
        self._saved_at = time.monotonic()

    def on_batch_end(self, trainer: Any, step: int, loss: Any) -> None:
        """Write ``last.pt`` mid-epoch every ``every_steps`` steps or ``every_minutes`` minutes (finite weights
        only)."""
        due = (self.every_steps is not None and step % self.every_steps == 0) or (
            self.every_seconds is not None and time.monotonic() - self._saved_at >= self.every_seconds
        )
        if due and _finite(trainer.model.parameters()):
            self._save(trainer, trainer.state_dict(), self.folder / "last.pt")

    def on_epoch_end(self, trainer: Any, epoch: int, logs: dict[str, float]) -> None:
        """Write ``best.pt`` if the monitored metric improved and ``last.pt`` every ``every`` epochs."""
        if not _finite(trainer.model.parameters()) or any(
            k.endswith("loss") and isinstance(v, float) and not math.isfinite(v) for k, v in logs.items()
        ):
            return  # a diverged epoch (the trainer raises before this; a guard for trainers that do not)
        last_epoch = trainer.epoch >= trainer.epochs or trainer.stop_training
        value = logs.get(self.monitor) if self.monitor else None
        if self.follow is not None:
            improved = self.follow.best_epoch == epoch
        else:
            improved = (
                value is not None
                and math.isfinite(value)
                and (value < self.best if self.mode == "min" else value > self.best)
            )
        if improved:
            self.best = value
        state = trainer.state_dict() if improved or last_epoch or trainer.epoch % self.every == 0 else None
        if state is None:
            return
        if improved:
            self._save(trainer, state, self.folder / "best.pt", best={self.monitor: value})
        if last_epoch or trainer.epoch % self.every == 0:
            self._save(trainer, state, self.folder / "last.pt")

    def state_dict(self) -> dict[str, Any]:
        """The best value seen."""
        return {"best": self.best}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        """Restore the best value seen."""
        self.best = state["best"]


def _finite(parameters: Any) -> bool:
    return all(bool(torch.isfinite(p).all()) for p in parameters)
