"""Stop training when a monitored metric stops improving (Prechelt, 1998, "Early stopping - but when?")."""

from __future__ import annotations

import copy
import math
from typing import Annotated, Any

from lamina.config.component import Bounds, Choices, spec_base, validated
from lamina.errors import ConfigError, did_you_mean
from lamina.registry import register
from lamina.train.callbacks.base import Callback, CallbackSpec

__all__ = ["EarlyStopping", "EarlyStoppingSpec"]

_MODES = {"min": lambda new, best, delta: new < best - delta, "max": lambda new, best, delta: new > best + delta}


class EarlyStopping(Callback):
    """Stop when ``monitor`` has not improved by more than ``min_delta`` for ``patience`` epochs.

    Args:
        monitor: a logged metric, e.g. ``val_loss`` or ``val_accuracy``.
        patience: epochs without improvement before stopping.
        mode: ``min``, ``max``, or ``auto`` (``max`` for accuracies, else ``min``).
        min_delta: the smallest change that counts as an improvement.
        restore_best: put back the weights of the best epoch when training ends.
        start_from_epoch: epochs of warm-up that are not monitored (Keras' ``start_from_epoch``): neither a best
            value nor a patience count before it, for networks that sit on a plateau before they learn.
    """

    @validated
    def __init__(
        self,
        monitor: str = "val_loss",
        *,
        patience: Annotated[int, Bounds(ge=1)] = 5,
        mode: Annotated[str, Choices("auto", "min", "max")] = "auto",
        min_delta: Annotated[float, Bounds(ge=0)] = 0.0,
        restore_best: bool = True,
        start_from_epoch: Annotated[int, Bounds(ge=0)] = 0,
    ) -> None:
        self.monitor, self.patience, self.min_delta, self.restore_best = monitor, patience, min_delta, restore_best
        self.start_from_epoch = start_from_epoch
        self.mode = mode if mode != "auto" else ("max" if "acc" in monitor else "min")
        self.on_train_begin(None)

    def on_train_begin(self, trainer: Any) -> None:
        """Forget the best value, the patience count and the saved weights."""
        self.best = math.inf if self.mode == "min" else -math.inf
        self.best_epoch = -1
        self.wait = 0
        self.best_weights: dict | None = None
        self.stopped_epoch: int | None = None

    def _evaluate(self, current: float) -> tuple[bool, bool, str]:
        """(improved, should_stop, reason) for the epoch's value of the monitored metric."""
        if _MODES[self.mode](current, self.best, self.min_delta):
            return True, False, ""
        if self.wait + 1 >= self.patience:
            return (
                False,
                True,
                (
                    f"{self.monitor} has not improved for {self.patience} epochs "
                    f"(best {self.best:.6g} at epoch {self.best_epoch + 1})"
                ),
            )
        return False, False, ""

    def on_epoch_end(self, trainer: Any, epoch: int, logs: dict[str, float]) -> None:
        """Track the best epoch (saving its weights) and stop once patience runs out."""
        if self.monitor not in logs:
            raise ConfigError(
                f"early_stopping.monitor: no metric {self.monitor!r};"
                f"{did_you_mean(self.monitor, logs)} logged metrics: {', '.join(sorted(logs))}"
            )
        if epoch < self.start_from_epoch:  # warm-up: not monitored
            return
        improved, stop, reason = self._evaluate(logs[self.monitor])
        if improved:
            self.best, self.best_epoch, self.wait = logs[self.monitor], epoch, 0
            if self.restore_best:
                self.best_weights = copy.deepcopy(trainer.model.state_dict())
        else:
            self.wait += 1
        if stop:
            self.stopped_epoch = epoch
            trainer.stop_training = True
            trainer.stop_reason = reason

    def on_train_end(self, trainer: Any) -> None:
        """Put back the best epoch's weights if a later epoch ended the run."""
        if self.restore_best and self.best_weights is not None and self.best_epoch != trainer.epoch - 1:
            trainer.model.load_state_dict(self.best_weights)

    def state_dict(self) -> dict[str, Any]:
        """Best value, its epoch, the patience count and the best weights."""
        return {"best": self.best, "best_epoch": self.best_epoch, "wait": self.wait, "best_weights": self.best_weights}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        """Restore :meth:`state_dict`."""
        self.best, self.best_epoch, self.wait = state["best"], state["best_epoch"], state["wait"]
        self.best_weights = state.get("best_weights")


@register("callback", "early_stopping")
class EarlyStoppingSpec(spec_base(EarlyStopping, CallbackSpec)):  # type: ignore[misc]  # a base made by spec_base
    """``early_stopping = { monitor = "val_loss", patience = 5 }``: :class:`EarlyStopping`'s keyword arguments,
    with its defaults and bounds."""

    def build(self) -> EarlyStopping:
        """The :class:`EarlyStopping` callback."""
        return EarlyStopping(**self.options())
