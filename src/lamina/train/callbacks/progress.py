"""Progress display: a rich progress bar on a terminal (epoch, step, loss, metrics, ETA, samples/s), plain
periodic lines otherwise (CI, log files)."""

from __future__ import annotations

import sys
import time
from typing import Any, TextIO

from lamina.train.callbacks.base import Callback

__all__ = ["ProgressBar", "PlainProgress", "progress_callback", "format_logs"]


def format_logs(logs: dict[str, float], skip: tuple[str, ...] = ("epoch", "time", "lr")) -> str:
    """``loss 0.1234  accuracy 0.9612  val_loss ...`` with 4 significant digits."""
    return "  ".join(f"{k} {v:.4g}" for k, v in logs.items() if k not in skip and isinstance(v, (int, float)))


def _samples(trainer: Any) -> int:
    return trainer.batch_size


class PlainProgress(Callback):
    """One line per epoch (and one every ``interval`` seconds within long epochs), for logs and CI."""

    def __init__(self, stream: TextIO | None = None, *, interval: float = 30.0) -> None:
        self.stream = stream or sys.stdout
        self.interval = interval

    def on_train_begin(self, trainer: Any) -> None:
        """Start the clock for periodic lines."""
        self._last_print = time.perf_counter()

    def on_epoch_begin(self, trainer: Any, epoch: int) -> None:
        """Note the epoch's start time and step."""
        self._epoch_start, self._epoch_step = time.perf_counter(), trainer.step

    def on_batch_end(self, trainer: Any, step: int, loss: Any) -> None:
        """Print a line if ``interval`` seconds have passed."""
        now = time.perf_counter()
        if now - self._last_print >= self.interval:
            self._last_print = now
            done = step - self._epoch_step
            rate = done * _samples(trainer) / max(now - self._epoch_start, 1e-9)
            print(
                f"epoch {trainer.epoch + 1}/{trainer.epochs}  step {step}  loss {float(loss):.4g}  "
                f"{rate:,.0f} samples/s",
                file=self.stream,
                flush=True,
            )

    def on_epoch_end(self, trainer: Any, epoch: int, logs: dict[str, float]) -> None:
        """Print the epoch's metrics, duration and rate."""
        seconds = time.perf_counter() - self._epoch_start
        rate = (trainer.step - self._epoch_step) * _samples(trainer) / max(seconds, 1e-9)
        print(
            f"epoch {epoch + 1}/{trainer.epochs}  {format_logs(logs)}  {seconds:.1f}s  {rate:,.0f} samples/s",
            file=self.stream,
            flush=True,
        )
        self._last_print = time.perf_counter()


class ProgressBar(Callback):
    """A rich progress bar per epoch: steps done, ETA, samples/s, the running loss and last epoch's metrics."""

    def __init__(self, *, refresh_every: int = 10) -> None:
        self.refresh_every = refresh_every

    def on_train_begin(self, trainer: Any) -> None:
        """Start the rich display."""
        from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

        self._progress = Progress(
            TextColumn("[bold]epoch {task.fields[epoch]}"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeRemainingColumn(),
            TextColumn("{task.fields[rate]}"),
            TextColumn("{task.fields[logs]}"),
            transient=False,
        )
        self._progress.start()
        self._task = None

    def on_epoch_begin(self, trainer: Any, epoch: int) -> None:
        """Add a bar for the epoch."""
        self._epoch_start, self._epoch_step = time.perf_counter(), trainer.step
        total = getattr(trainer, "steps_per_epoch", None)
        self._task = self._progress.add_task("", total=total, epoch=f"{epoch + 1}/{trainer.epochs}", rate="", logs="")

    def on_batch_end(self, trainer: Any, step: int, loss: Any) -> None:
        """Advance the bar (and the running loss) every ``refresh_every`` steps."""
        done = step - self._epoch_step
        if done % self.refresh_every == 0:
            rate = done * _samples(trainer) / max(time.perf_counter() - self._epoch_start, 1e-9)
            self._progress.update(
                self._task, completed=done, rate=f"{rate:,.0f} samples/s", logs=f"loss {float(loss):.4g}"
            )

    def on_epoch_end(self, trainer: Any, epoch: int, logs: dict[str, float]) -> None:
        """Complete the bar with the epoch's metrics."""
        seconds = time.perf_counter() - self._epoch_start
        rate = (trainer.step - self._epoch_step) * _samples(trainer) / max(seconds, 1e-9)
        self._progress.update(
            self._task, completed=trainer.step - self._epoch_step, rate=f"{rate:,.0f} samples/s", logs=format_logs(logs)
        )

    def on_train_end(self, trainer: Any) -> None:
        """Stop the rich display."""
        self._progress.stop()


def progress_callback(mode: str = "auto") -> Callback | None:
    """``auto``: a bar on a terminal, plain lines otherwise; ``rich``, ``plain`` or ``none`` to choose."""
    if mode == "none":
        return None
    if mode == "rich" or (mode == "auto" and sys.stdout.isatty()):
        return ProgressBar()
    return PlainProgress()
