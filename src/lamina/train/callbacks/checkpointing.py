"""Save ``checkpoints/last.pt`` every few epochs and ``checkpoints/best.pt`` when the monitored metric improves."""
from __future__ import annotations

import math
from pathlib import Path
from typing import Any

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
    """

    def __init__(self, folder: str | Path, *, every: int = 1, monitor: str | None = "val_loss", mode: str = "min",
                 follow: Any = None, meta: dict[str, Any] | None = None) -> None:
        self.folder, self.every, self.monitor, self.mode = Path(folder), every, monitor, mode
        self.follow = follow
        self.meta = meta or {}
        self.best = math.inf if mode == "min" else -math.inf

    def on_epoch_end(self, trainer: Any, epoch: int, logs: dict[str, float]) -> None:
        """Write ``best.pt`` if the monitored metric improved and ``last.pt`` every ``every`` epochs."""
        last_epoch = trainer.epoch >= trainer.epochs or trainer.stop_training
        value = logs.get(self.monitor) if self.monitor else None
        if self.follow is not None:
            improved = self.follow.best_epoch == epoch
        else:
            improved = value is not None and math.isfinite(value) and (
                value < self.best if self.mode == "min" else value > self.best)
        if improved:
            self.best = value
        state = trainer.state_dict() if improved or last_epoch or trainer.epoch % self.every == 0 else None
        if state is None:
            return
        state["callbacks"][trainer.callbacks.index(self)] = self.state_dict()
        if improved:
            save_checkpoint(state, self.folder / "best.pt", **self.meta, best={self.monitor: value})
        if last_epoch or trainer.epoch % self.every == 0:
            save_checkpoint(state, self.folder / "last.pt", **self.meta)

    def state_dict(self) -> dict[str, Any]:
        """The best value seen."""
        return {"best": self.best}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        """Restore the best value seen."""
        self.best = state["best"]
