"""Shared by the MNIST multilayer-perceptron tables (``dropout_mnist``, ``ciresan_mlp``): the experiment each cell
trains, a wall-clock budget, the JSON written after every epoch and the learning-curve figure.

Every cell is an ordinary lamina experiment (``lamina.train``: the run folder, its checkpoints, ``metrics.jsonl``
and lamina's own learning-curve PNGs under ``<out-dir>/runs/``). Selection is honest: MNIST's last 10,000 training
images are the validation set, the epoch kept is the one with the best validation error (early stopping with
``restore_best``), and the test set is scored once per cell, by ``lamina.train``, on those weights.

On a GPU the training set lives on the device: lamina's loader moves an in-memory dataset to the training device once
and batches it by index (no per-batch copy), and the data transforms (elastic distortions) run there on each batch.
"""

from __future__ import annotations

import argparse
import math
import shutil
import time
from pathlib import Path
from typing import Any

import lamina
from benchmarks.common import RESULTS, command, limit_threads, machine
from lamina.config.loader import parse_experiment

__all__ = [
    "Budget",
    "EpochRecord",
    "add_mnist_options",
    "hidden_layers",
    "mnist_experiment",
    "plot_cells",
    "run_cell",
    "write_json",
]

SMOKE_TRAIN, SMOKE_VALIDATION = 1500, 500  # --smoke: a few seconds on the CPU


def add_mnist_options(parser: argparse.ArgumentParser) -> None:
    """The options every MNIST-MLP table takes: device, budget, output folder, seed, threads, smoke."""
    parser.add_argument("--device", default="cpu", help="cpu, cuda, cuda:N or auto")
    parser.add_argument(
        "--budget-minutes",
        type=float,
        default=math.inf,
        help="wall-clock budget for all cells together: a cell starts no epoch it cannot finish in its share",
    )
    parser.add_argument(
        "--out-dir", type=Path, default=RESULTS, help="where the JSON, the figure and runs/ (the run folders) go"
    )
    parser.add_argument(
        "--runs-dir", type=Path, default=None, help="where the cells' run folders go (default: <out-dir>/runs)"
    )
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--threads", type=int, default=None, help="torch intra-op threads on the CPU")
    parser.add_argument("--smoke", action="store_true", help="tiny networks on 1,500 images for 1 epoch: seconds")


def hidden_layers(sizes: list[int], activation: str, *, init: Any = None, **dense: Any) -> list[dict[str, Any]]:
    """Dense layer tables of ``sizes`` units each (``dense`` options such as ``max_norm`` on every one)."""
    extra = {"init": init} if init is not None else {}
    return [{"type": "dense", "units": n, "activation": activation, **extra, **dense} for n in sizes]


def mnist_experiment(
    name: str,
    layers: list[dict[str, Any]],
    *,
    optimizer: dict[str, Any],
    schedule: dict[str, Any] | None,
    epochs: int,
    batch_size: int,
    args: argparse.Namespace,
    augment: list[dict[str, Any]] | None = None,
    patience: int | None = None,
    callbacks: list[dict[str, Any]] | None = None,
) -> lamina.Experiment:
    """The experiment of one cell: MNIST flattened, pixels in [0, 1], the last 10,000 training images held out
    (``--smoke``: 1,500 + 500 images), ``layers`` then a 10-unit linear output trained on cross-entropy, early stopping
    on validation accuracy that keeps the best epoch's weights; ``callbacks``: registered callback tables."""
    data: dict[str, Any] = {"name": "mnist", "flatten": True, "scale": "unit", "validation": 10000}
    if args.smoke:
        data.update(train_subset=SMOKE_TRAIN + SMOKE_VALIDATION, validation=SMOKE_VALIDATION)
    if augment:
        data["augment"] = augment
    raw = {
        "name": name,
        "data": data,
        "model": {"layers": [*layers, {"type": "dense", "units": 10}]},
        "train": {
            "loss": "cross_entropy",
            "epochs": 1 if args.smoke else epochs,
            "batch_size": batch_size,
            "seed": args.seed,
            "optimizer": optimizer,
            "schedule": schedule,
            "early_stopping": {"monitor": "val_accuracy", "patience": patience or epochs, "restore_best": True},
            "callbacks": callbacks or [],
            "device": args.device,
            "log_every": 100,
            "checkpoint_every": 10,  # last.pt every 10 epochs (best.pt on every improvement): the runs are not resumed
            "checkpoint_every_minutes": 0,
        },
    }
    return parse_experiment({k: v for k, v in raw.items()}, source=f"benchmark cell {name}")


class Budget(lamina.Callback):
    """Stop training before the wall clock passes ``deadline`` (``time.perf_counter()`` seconds): no epoch is started
    that the last one's duration says would end after it, and a running one stops at the deadline."""

    def __init__(self, deadline: float) -> None:
        self.deadline = deadline
        self.epoch_start = time.perf_counter()
        self.last_epoch_s = 0.0
        self.reason = ""

    def on_epoch_begin(self, trainer: Any, epoch: int) -> None:
        """Note when the epoch starts."""
        self.epoch_start = time.perf_counter()

    def on_batch_end(self, trainer: Any, step: int, loss: Any) -> None:
        """Stop inside an epoch once the deadline has passed."""
        if step % 50 == 0 and time.perf_counter() > self.deadline:
            self._stop(trainer, "the budget ran out inside an epoch")

    def on_epoch_end(self, trainer: Any, epoch: int, logs: dict[str, float]) -> None:
        """Stop if another epoch as long as this one would pass the deadline."""
        now = time.perf_counter()
        self.last_epoch_s = now - self.epoch_start
        if now + self.last_epoch_s > self.deadline:
            self._stop(trainer, f"budget: another epoch ({self.last_epoch_s:.1f} s) would pass the deadline")

    def _stop(self, trainer: Any, reason: str) -> None:
        trainer.stop_training, trainer.stop_reason, self.reason = True, reason, reason


def max_hidden_unit_norm(model: Any) -> float:
    """The largest L2 norm of a hidden unit's incoming weights: over the rows of every dense weight but the output
    layer's (whether a max-norm bound has been reached)."""
    import torch

    weights = [m.weight for m in model.modules() if isinstance(m, torch.nn.Linear)][:-1]
    return max((float(w.detach().norm(dim=1).max()) for w in weights), default=float("nan"))


class EpochRecord(lamina.Callback):
    """Call ``write(history)`` after every epoch, so that a run killed by a time limit leaves its curve on disk; each
    row adds ``max_unit_norm`` (:func:`max_hidden_unit_norm`) to the epoch's logs."""

    def __init__(self, write: Any) -> None:
        self.write = write
        self.rows: list[dict[str, Any]] = []

    def on_epoch_end(self, trainer: Any, epoch: int, logs: dict[str, float]) -> None:
        """Record the epoch's logs and the largest hidden-unit norm, and write them."""
        row = {"epoch": epoch + 1, **{k: float(v) for k, v in logs.items()}}
        row["max_unit_norm"] = max_hidden_unit_norm(trainer.model)
        self.rows.append(row)
        self.write(self.rows)


def run_cell(
    exp: lamina.Experiment, *, args: argparse.Namespace, deadline: float, write_partial: Any, published: float | None
) -> dict[str, Any]:
    """Train one cell through ``lamina.train`` and return its record: test and best validation error (%), the epoch
    kept, epochs run, wall time, why it stopped, the per-epoch history and the run folder. The run's own accuracy
    curve (lamina's ``plots/accuracy.png``) is copied to ``<out-dir>/<benchmark>_<cell>_accuracy.png``."""
    budget = Budget(deadline)
    record = EpochRecord(lambda rows: write_partial({"name": exp.name, "status": "running", "history": rows}))
    runs = args.runs_dir or args.out_dir / "runs"
    run = lamina.train(exp, out=runs, callbacks=[budget, record], progress="plain")
    curve = run.dir / "plots" / "accuracy.png"
    if curve.is_file():
        shutil.copyfile(curve, args.out_dir / f"{args.benchmark}_{exp.name}_accuracy.png")
    history = [dict(row) for row in record.rows]
    val = [row["val_accuracy"] for row in history if "val_accuracy" in row]
    best = max(range(len(val)), key=val.__getitem__) if val else None
    test = run.summary.get("test", {})
    return {
        "name": exp.name,
        "status": run.summary["status"],
        "stop_reason": run.summary.get("message", ""),
        "test_error_percent": round(100 * (1 - test["accuracy"]), 3) if "accuracy" in test else None,
        "published_percent": published,
        "best_validation_error_percent": round(100 * (1 - val[best]), 3) if best is not None else None,
        "best_epoch": best + 1 if best is not None else None,
        "epochs": run.summary["epochs"],
        "wall_time_s": run.summary["wall_time_s"],
        "seconds_per_epoch": round(run.summary["wall_time_s"] / max(1, run.summary["epochs"]), 2),
        "parameters": run.summary["parameters"],
        "device": run.summary["device"],
        "run": str(run.dir),
        "history": history,
    }


def settings_of(args: argparse.Namespace) -> dict[str, Any]:
    """The parsed options as JSON values (paths as strings), for a result's ``settings``."""
    return {k: (str(v) if isinstance(v, Path) else v) for k, v in vars(args).items()}


def chosen_cells(parser: argparse.ArgumentParser, cells: str, known: dict[str, Any]) -> list[str]:
    """The ``--cells`` names in order; an unknown one ends the command with the choices (``parser.error``)."""
    names = cells.split(",")
    unknown = sorted(set(names) - set(known))
    if unknown:
        parser.error(f"--cells: unknown {unknown}; choose from {sorted(known)}")
    return names


def run_recorded_cell(
    exp: lamina.Experiment,
    *,
    args: argparse.Namespace,
    seconds: float,
    done: list[dict[str, Any]],
    write: Any,
    published: float | None,
    paper: str = "published",
) -> dict[str, Any]:
    """:func:`run_cell` with ``seconds`` of budget; the record is appended to ``done``, the JSON rewritten with
    ``write()`` (``write(current)`` during the run) and a line printed: test error beside the ``paper``'s figure."""
    cell = run_cell(exp, args=args, deadline=time.perf_counter() + seconds, write_partial=write, published=published)
    done.append(cell)
    write()
    beside = f"{paper} {published}%" if published is not None else "no published figure"
    print(
        f"{exp.name}: test error {cell['test_error_percent']}% ({beside}), best validation "
        f"{cell['best_validation_error_percent']}% at epoch {cell['best_epoch']} of {cell['epochs']}, "
        f"{cell['wall_time_s']:.0f} s"
    )
    return cell


def write_json(path: Path, payload: dict[str, Any]) -> Path:
    """Write ``payload`` with the command, date and machine to ``path`` (atomically, non-finite numbers encoded)."""
    from lamina import files, jsonio

    record = {"command": command(), "date": time.strftime("%Y-%m-%d %H:%M:%S"), "machine": machine(), **payload}
    path.parent.mkdir(parents=True, exist_ok=True)
    files.write_text(path, jsonio.dumps(record, indent=2) + "\n")
    return path


def plot_cells(cells: list[dict[str, Any]], path: Path, title: str) -> Path | None:
    """Validation error (%) per epoch of every cell, with the training error dashed where logged, one colour per cell;
    the published test errors as dotted horizontal lines."""
    from lamina.report.plots import new_figure, save_figure

    drawn = [c for c in cells if c.get("history")]
    if not drawn:
        return None
    fig, ax = new_figure((7, 4.5))
    for i, cell in enumerate(drawn):
        colour = f"C{i}"
        rows = cell["history"]
        epochs = [r["epoch"] for r in rows]
        val = [100 * (1 - r["val_accuracy"]) for r in rows]
        ax.plot(epochs, val, "-o", markersize=3, color=colour, label=cell["name"])
        if all("accuracy" in r for r in rows):
            ax.plot(epochs, [100 * (1 - r["accuracy"]) for r in rows], "--", color=colour, alpha=0.6)
        if cell.get("published_percent") is not None:
            ax.axhline(cell["published_percent"], color=colour, linestyle=":", linewidth=1)
    ax.set_yscale("log")
    ax.set_xlabel("epoch")
    ax.set_ylabel("error (%)")
    ax.set_title(f"{title}\nvalidation (solid), training with its noise (dashed), published test (dotted)", fontsize=9)
    ax.grid(alpha=0.3, which="both")
    ax.legend(fontsize=8)
    return save_figure(fig, path)


def prepare(args: argparse.Namespace) -> float:
    """Apply ``--threads``, make ``--out-dir`` and return the overall deadline of ``--budget-minutes`` (in
    ``time.perf_counter()`` seconds)."""
    limit_threads(args.threads)
    args.out_dir.mkdir(parents=True, exist_ok=True)
    return time.perf_counter() + 60 * args.budget_minutes
