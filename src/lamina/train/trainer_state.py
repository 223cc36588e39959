"""What a :class:`~lamina.train.trainer.Trainer` saves and restores so that a resumed run continues bit for bit:
weights, optimizer, scheduler, gradient scaler, RNG streams, counters, history, callbacks, and the position inside an
epoch for a mid-epoch checkpoint. :class:`ResumableState` holds these methods (the trainer mixes it in)."""

from __future__ import annotations

from typing import Any

import torch
from torch import nn

from lamina.metrics.standard import Metric, metric_state
from lamina.train.callbacks.base import Callback
from lamina.train.history import History
from lamina.train.rng import RngStreams

__all__ = ["ResumableState"]


class ResumableState:
    """:meth:`state_dict` and :meth:`load_state_dict` of :class:`~lamina.train.trainer.Trainer` (mixed into it).

    A scheduler, the callbacks' states and a mid-epoch position restored before :meth:`Trainer.fit
    <lamina.train.trainer.Trainer.fit>` built the scheduler and callbacks wait in the ``_pending_*`` attributes
    until it applies them.
    """

    # restored by load_state_dict, applied by the next fit (the scheduler and callbacks are built there)
    _pending_scheduler_state: dict | None = None
    _pending_callback_states: list | None = None
    _pending_position: dict | None = None  # where a mid-epoch checkpoint was taken

    model: nn.Module
    optimizer: Any
    scheduler: Any
    scaler: torch.amp.GradScaler | None
    rng: RngStreams
    epoch: int
    step: int
    history: History
    callbacks: list[Callback]
    _position: dict[str, Any] | None
    _meters: list[Metric]

    def state_dict(self) -> dict[str, Any]:
        """Everything needed to resume: weights, optimizer, scheduler, RNG streams, counters, history, callbacks."""
        return {
            "model": self.model.state_dict(),
            "optimizer": self.optimizer.state_dict(),
            "scheduler": self.scheduler.state_dict() if self.scheduler is not None else None,
            "scaler": self.scaler.state_dict() if self.scaler is not None else None,
            "rng": self.rng.state_dict(),
            "epoch": self.epoch,
            "step": self.step,
            "history": self.history.state_dict(),
            "callbacks": [cb.state_dict() for cb in self.callbacks],
            "position": self._position_state(),
        }

    def _position_state(self) -> dict[str, Any] | None:
        """Inside an epoch (a mid-epoch checkpoint): the batches done, the shuffling generator's state when the
        epoch drew its order, and the epoch's running loss and metric sums; ``None`` between epochs."""
        if self._position is None:
            return None
        return {**self._position, "meters": [metric_state(m) for m in self._meters]}

    def _restore_scheduler(self, state: dict[str, Any]) -> None:
        # Building a scheduler resets each group's rate to base * f(0); put back the rates it had reached.
        self.scheduler.load_state_dict(state)
        for group, lr, base in zip(self.optimizer.param_groups, state["_last_lr"], state["base_lrs"]):
            group["lr"], group["initial_lr"] = lr, base
        self._pending_scheduler_state = None

    def load_state_dict(self, state: dict[str, Any]) -> None:
        """Restore :meth:`state_dict`; the next :meth:`fit` continues where that run was."""
        self.model.load_state_dict(state["model"])
        self.optimizer.load_state_dict(state["optimizer"])
        self._pending_scheduler_state = state.get("scheduler")
        if self.scheduler is not None and state.get("scheduler") is not None:
            self._restore_scheduler(state["scheduler"])
        if self.scaler is not None and state.get("scaler") is not None:
            self.scaler.load_state_dict(state["scaler"])
        self.rng.load_state_dict(state["rng"])
        self.epoch, self.step = state["epoch"], state["step"]
        self.history = History(state["history"])
        self._pending_callback_states = state.get("callbacks") or None
        self._pending_position = state.get("position")
