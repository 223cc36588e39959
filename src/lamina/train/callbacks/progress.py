"""The console's progress: one printer for ``Trainer.fit`` and ``lamina train``.

Keras's convention (``verbose``): ``1`` prints one line per epoch (metrics, duration, samples/s) and, within an epoch
that runs longer than a few seconds, a rich progress bar on a terminal (steps, ETA, rate, running loss) or a plain
line every 30 seconds elsewhere (CI, log files); ``2`` prints the epoch lines only; ``0`` nothing. ``log_every``
thins the epoch lines of runs made of many short epochs: at most ``log_every`` optimizer steps between two lines,
as few lines as that allows (whole epochs), the first and the last epoch always shown.
A model that names its training objective (``objective_name``: an RBM's ``free_energy_gap``) shows it under that
name, not as "loss".
"""

from __future__ import annotations

import sys
import time
from typing import Any, TextIO

from lamina.train.callbacks.base import Callback

__all__ = ["ProgressPrinter", "ProgressBar", "PlainProgress", "progress_callback", "format_logs", "epoch_line"]

BAR_AFTER_SECONDS = 3.0  # an epoch shows a bar once it has run this long (shorter ones only print their line)


def format_logs(logs: dict[str, float], skip: tuple[str, ...] = ("epoch", "time", "lr")) -> str:
    """``loss 0.1234  accuracy 0.9612  val_loss ...`` with 4 significant digits."""
    return "  ".join(f"{k} {v:.4g}" for k, v in logs.items() if k not in skip and isinstance(v, (int, float)))


def epoch_line(epoch: int, epochs: int, logs: dict[str, float], seconds: float, samples_per_second: float) -> str:
    """``epoch 3/40  loss 0.1234  accuracy 0.9612  val_loss 0.15  0.4s  8,123 samples/s`` (``epoch`` from 0)."""
    return f"epoch {epoch + 1}/{epochs}  {format_logs(logs)}  {seconds:.1f}s  {samples_per_second:,.0f} samples/s"


class ProgressPrinter(Callback):
    """Per-epoch lines, and progress within long epochs; what ``Trainer(verbose=...)`` and ``lamina train`` print.

    Args:
        verbose: ``1`` epoch lines plus progress within long epochs, ``2`` epoch lines only.
        log_every: at most this many optimizer steps between two epoch lines (``None``: every epoch). An epoch of at
            least ``log_every`` steps is always shown; 3,000 one-step epochs with ``log_every = 1000`` show epochs 1,
            1000, 2000 and 3000.
        bar: within-epoch progress as a rich bar (``True``), as a plain line every ``interval`` seconds
            (``False``), or a bar when standard output is a terminal (``None``).
        stream: where lines go (default: standard output at each call, so that pytest's capture sees them).
        interval: seconds between the plain within-epoch lines.
        bar_after: seconds an epoch runs before its bar appears (or its first plain line).
    """

    def __init__(
        self,
        verbose: int = 1,
        *,
        log_every: int | None = None,
        bar: bool | None = None,
        stream: TextIO | None = None,
        interval: float = 30.0,
        bar_after: float = BAR_AFTER_SECONDS,
    ) -> None:
        if verbose not in (1, 2):
            raise ValueError(f"`verbose` of a progress printer must be 1 or 2, got {verbose!r}")
        if log_every is not None and log_every < 1:
            raise ValueError(f"`log_every` must be a positive number of steps or None, got {log_every!r}")
        self.verbose, self.log_every, self.bar = verbose, log_every, bar
        self.stream, self.interval, self.bar_after = stream, interval, bar_after

    def _print(self, text: str) -> None:
        print(text, file=self.stream or sys.stdout, flush=True)

    def _every(self, trainer: Any) -> int:
        """Epochs between two lines: as many whole epochs as fit in ``log_every`` steps, at least one."""
        steps = max(getattr(trainer, "steps_per_epoch", 1) or 1, 1)
        return max(1, self.log_every // steps) if self.log_every else 1

    def on_train_begin(self, trainer: Any) -> None:
        """Decide between a bar and plain lines within epochs."""
        stream = self.stream or sys.stdout
        self._use_bar = self.bar if self.bar is not None else bool(getattr(stream, "isatty", lambda: False)())
        self._live: Any = None
        self._pending: str | None = None  # the last epoch's line when it was not shown (thinned out)

    def on_epoch_begin(self, trainer: Any, epoch: int) -> None:
        """Start the epoch's clock."""
        self._epoch_start = self._last_line = time.perf_counter()
        self._epoch_step = trainer.step

    def on_batch_end(self, trainer: Any, step: int, loss: Any) -> None:
        """Within an epoch longer than ``bar_after`` seconds: advance the bar (every 10 steps) or print a plain line
        every ``interval`` seconds."""
        if self.verbose != 1 or step % 10:
            return
        now = time.perf_counter()
        if now - self._epoch_start < self.bar_after:
            return
        done = step - self._epoch_step
        rate = done * trainer.batch_size / max(now - self._epoch_start, 1e-9)
        if self._use_bar:
            if self._live is None:
                self._start_bar(trainer)
            self._live[0].update(self._live[1], completed=done, rate=f"{rate:,.0f} samples/s", loss=float(loss))
        elif now - self._last_line >= self.interval:
            self._last_line = now
            total = getattr(trainer, "steps_per_epoch", None)
            of = f"/{total}" if total else ""
            self._print(
                f"epoch {trainer.epoch + 1}/{trainer.epochs}  step {done}{of}  loss {float(loss):.4g}  "
                f"{rate:,.0f} samples/s"
            )

    def _start_bar(self, trainer: Any) -> None:
        from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

        progress = Progress(
            TextColumn(f"epoch {trainer.epoch + 1}/{trainer.epochs}"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeRemainingColumn(),
            TextColumn("{task.fields[rate]}  loss {task.fields[loss]:.4g}"),
            transient=True,  # the epoch's line replaces it
        )
        progress.start()
        task = progress.add_task("", total=getattr(trainer, "steps_per_epoch", None), rate="", loss=float("nan"))
        self._live = (progress, task)

    def _stop_bar(self) -> None:
        if self._live is not None:
            self._live[0].stop()
            self._live = None

    def on_epoch_end(self, trainer: Any, epoch: int, logs: dict[str, float]) -> None:
        """Print the epoch's line (unless ``log_every`` thins it out)."""
        self._stop_bar()
        seconds = time.perf_counter() - self._epoch_start
        rate = (trainer.step - self._epoch_step) * trainer.batch_size / max(seconds, 1e-9)
        named = getattr(trainer.model, "objective_name", None) if getattr(trainer, "uses_model_loss", False) else None
        shown = {k: v for k, v in logs.items() if not (named and named in logs and k == "loss")}
        line = epoch_line(epoch, trainer.epochs, shown, seconds, rate)
        if epoch == 0 or (epoch + 1) % self._every(trainer) == 0 or epoch + 1 == trainer.epochs:
            self._print(line)
            self._pending = None
        else:
            self._pending = line

    def on_train_end(self, trainer: Any) -> None:
        """Show the last epoch's line if it was thinned out (training stopped early)."""
        self._stop_bar()
        if getattr(self, "_pending", None):
            self._print(self._pending)
            self._pending = None


class PlainProgress(ProgressPrinter):
    """Epoch lines and, within long epochs, a plain line every ``interval`` seconds; never a bar (logs, CI)."""

    def __init__(self, stream: TextIO | None = None, *, interval: float = 30.0, log_every: int | None = None) -> None:
        super().__init__(1, log_every=log_every, bar=False, stream=stream, interval=interval)


class ProgressBar(ProgressPrinter):
    """Epoch lines and a rich bar within long epochs, whether or not standard output is a terminal."""

    def __init__(self, *, log_every: int | None = None) -> None:
        super().__init__(1, log_every=log_every, bar=True)


def progress_callback(mode: str = "auto", *, log_every: int | None = None) -> Callback | None:
    """The printer for ``lamina.train(progress=mode)``: ``auto`` (a bar within long epochs on a terminal, plain
    lines otherwise), ``rich`` (always a bar), ``plain`` (never a bar) or ``none`` (``None``: silent)."""
    if mode not in ("auto", "rich", "plain", "none"):
        raise ValueError(f"`progress` must be 'auto', 'rich', 'plain' or 'none', got {mode!r}")
    if mode == "none":
        return None
    return ProgressPrinter(1, log_every=log_every, bar={"auto": None, "rich": True, "plain": False}[mode])
