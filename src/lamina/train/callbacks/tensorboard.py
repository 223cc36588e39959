"""TensorBoard event files (``[train] tensorboard = true``): per-epoch metrics and per-step loss and rate."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from lamina.errors import ConfigError
from lamina.train.callbacks.base import Callback

__all__ = ["TensorBoard"]


class TensorBoard(Callback):
    """Write scalars with ``torch.utils.tensorboard.SummaryWriter`` into ``folder``.

    Metrics are grouped as TensorBoard likes: ``loss/train`` beside ``loss/val``, ``accuracy/train`` beside
    ``accuracy/val``. Needs the ``tensorboard`` package (``pip install "lamina[tensorboard]"``).
    """

    def __init__(self, folder: str | Path, *, log_every: int = 50) -> None:
        try:
            from torch.utils.tensorboard import SummaryWriter  # noqa: F401
        except ImportError:
            raise ConfigError(
                'train.tensorboard: needs the tensorboard package; install it with: pip install "lamina[tensorboard]"'
            ) from None
        self.folder, self.log_every = Path(folder), log_every

    def on_train_begin(self, trainer: Any) -> None:
        """Open the event writer (purging steps past a resumed checkpoint)."""
        from torch.utils.tensorboard import SummaryWriter

        self.writer = SummaryWriter(str(self.folder), purge_step=trainer.step or None)

    def on_batch_end(self, trainer: Any, step: int, loss: Any) -> None:
        """Log the step loss and rate every ``log_every`` steps."""
        if step % self.log_every == 0:
            self.writer.add_scalar("step/loss", float(loss), step)
            self.writer.add_scalar("step/lr", trainer.optimizer.param_groups[0]["lr"], step)

    def on_epoch_end(self, trainer: Any, epoch: int, logs: dict[str, float]) -> None:
        """Log every epoch metric, training beside validation."""
        for key, value in logs.items():
            if key in ("epoch", "time"):
                continue
            name, split = (key[4:], "val") if key.startswith("val_") else (key, "train")
            self.writer.add_scalar(f"{name}/{split}", value, epoch + 1)
        self.writer.flush()

    def on_train_end(self, trainer: Any) -> None:
        """Close the event writer."""
        self.writer.close()
