"""``metrics.jsonl``: one JSON line per epoch and one per ``log_every`` optimizer steps."""
from __future__ import annotations

from pathlib import Path
from typing import Any

from lamina import files
from lamina.train.callbacks.base import Callback
from lamina.train import jsonio

__all__ = ["MetricsLog", "read_metrics"]


class MetricsLog(Callback):
    """Append training logs to a JSON-lines file.

    Lines are ``{"kind": "epoch", "epoch": 3, "step": 1170, "loss": ..., "val_loss": ..., ...}`` and
    ``{"kind": "step", "epoch": 3, "step": 1050, "loss": ...}``. On resume, lines past the checkpoint's step are
    dropped first, so the file always matches the weights. A non-finite value is written as ``"nan"``, ``"inf"``
    or ``"-inf"`` (:mod:`lamina.train.jsonio`) and read back as a float by :func:`read_metrics`.
    """

    def __init__(self, path: str | Path, *, log_every: int = 50) -> None:
        self.path = Path(path)
        self.log_every = log_every

    def on_train_begin(self, trainer: Any) -> None:
        """Open the log; on resume, first drop the lines the restored state has not reached."""
        files.refuse_symlink(self.path)  # before reading: a resumed run never touches a link's target
        if self.path.exists():  # resuming: keep only what the restored state has seen
            kept = [line for line in read_metrics(self.path) if line.get("step", 0) <= trainer.step
                    and (line["kind"] != "epoch" or line["epoch"] <= trainer.epoch)]
            files.atomic_write(self.path, "".join(jsonio.dumps(line) + "\n" for line in kept))
        self._fh = files.open_for_append(self.path)

    def _write(self, line: dict[str, Any]) -> None:
        self._fh.write(jsonio.dumps(line) + "\n")
        self._fh.flush()

    def on_batch_end(self, trainer: Any, step: int, loss: Any) -> None:
        """Write a step line every ``log_every`` steps."""
        if step % self.log_every == 0:
            self._write({"kind": "step", "epoch": trainer.epoch + 1, "step": step, "loss": float(loss),
                         "lr": trainer.optimizer.param_groups[0]["lr"]})

    def on_epoch_end(self, trainer: Any, epoch: int, logs: dict[str, float]) -> None:
        """Write the epoch's line."""
        self._write({"kind": "epoch", "epoch": epoch + 1, "step": trainer.step, **logs})

    def on_train_end(self, trainer: Any) -> None:
        """Close the log."""
        self._fh.close()


def read_metrics(path: str | Path) -> list[dict[str, Any]]:
    """The lines of a ``metrics.jsonl`` (a torn last line, from a killed run, is skipped)."""
    lines = []
    for raw in Path(path).read_text(encoding="utf-8").splitlines():
        try:
            lines.append(jsonio.loads(raw))
        except ValueError:  # json.JSONDecodeError
            continue
    return lines
