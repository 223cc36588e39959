"""Run folders and the :class:`Run` handle.

A training run writes one folder::

    runs/mnist_mlp-20261123-104512/
        config.toml          the resolved experiment (every default filled in)
        metrics.jsonl        one line per epoch and per logged step
        summary.json         status, final and test metrics, timing, device, versions
        checkpoints/         last.pt (resume), best.pt (best monitored epoch)
        plots/*.png          learning curves and the figures of each method
        report.html          everything above on one self-contained page
        tensorboard/         event files, with [train] tensorboard = true
"""

from __future__ import annotations

import json
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import torch
from torch import nn

from lamina import jsonio
from lamina.config.loader import load_experiment
from lamina.config.run_name import run_name_problem
from lamina.disk import disk_errors
from lamina.errors import CheckpointError, ConfigError, LaminaError, Problem
from lamina.nn.builder import build_model
from lamina.train.callbacks.metrics_log import read_metrics
from lamina.train.checkpoint import atomic_write, load_checkpoint
from lamina.train.history import History
from lamina.train.trainer import Trainer

__all__ = ["Run", "new_run_dir", "read_summary", "write_summary", "list_runs", "model_skeleton"]


def new_run_dir(out: str | Path, name: str) -> Path:
    """A fresh folder ``out/name-YYYYmmdd-HHMMSS`` (with ``-2``, ``-3``, ... if that exists).

    Raises:
        ConfigError: ``name`` breaks the rule of :mod:`lamina.config.run_name` (a path, ``..``, a NUL byte, ...), so
            that no run folder is ever made outside ``out``.
    """
    problem = run_name_problem(name)
    if problem:
        raise ConfigError([Problem("name", problem)])
    out = Path(out)
    stamp = time.strftime("%Y%m%d-%H%M%S")
    base = out / f"{name}-{stamp}"
    if base.resolve().parent != out.resolve():  # the rule makes this impossible; kept as the last line of defence
        raise ConfigError([Problem("name", f"{name!r} would put the run folder outside {str(out)!r}")])
    path, n = base, 1
    while True:
        try:
            path.mkdir(parents=True, exist_ok=False)
            return path
        except FileExistsError:
            n += 1
            path = base.with_name(f"{base.name}-{n}")


def write_summary(run_dir: str | Path, summary: dict[str, Any]) -> Path:
    """Atomically write ``summary.json`` (non-finite numbers as ``"nan"``/``"inf"``/``"-inf"``:
    :mod:`~lamina.jsonio`)."""
    text = jsonio.dumps(summary, indent=2) + "\n"
    path = Path(run_dir) / "summary.json"
    with disk_errors(path):
        return atomic_write(path, lambda fh: fh.write(text.encode("utf-8")))


def read_summary(run_dir: str | Path) -> dict[str, Any]:
    """``summary.json`` of a run ({} if the run never wrote one)."""
    path = Path(run_dir) / "summary.json"
    if not path.is_file():
        return {}
    try:
        return jsonio.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as err:
        raise CheckpointError(f"{path}: corrupted ({err})") from None


def _check_run_dir(path: Path) -> Path:
    if not path.exists():
        raise CheckpointError(f"{path}: no such run folder")
    if not (path / "config.toml").is_file():
        raise CheckpointError(f"{path}: not a lamina run folder (no config.toml); give the folder `lamina train` made")
    return path


class Run:
    """A training run: its folder, experiment, history, summary and trained model.

    ``lamina.train(...)`` returns one; :meth:`open` reads one back from its folder.

    Attributes:
        dir: the run folder.
        experiment: the resolved :class:`~lamina.config.schema.Experiment`.
        history: per-epoch logs.
        summary: the contents of ``summary.json``.
    """

    def __init__(
        self,
        dir: str | Path,
        *,
        experiment: Any,
        history: Any = None,
        summary: dict | None = None,
        model: nn.Module | None = None,
        splits: Any = None,
    ) -> None:
        self.dir = Path(dir)
        self.experiment = experiment
        self.history = history if history is not None else History()
        self.summary = summary if summary is not None else read_summary(self.dir)
        self._model = model
        self._splits = splits

    @classmethod
    def open(cls, path: str | Path) -> Run:
        """Read a run folder (its model is loaded on first use of :attr:`model`)."""
        path = _check_run_dir(Path(path))
        experiment = load_experiment(path / "config.toml")
        metrics = path / "metrics.jsonl"
        epochs = [
            {k: v for k, v in line.items() if k not in ("kind", "step")}
            for line in (read_metrics(metrics) if metrics.exists() else [])
            if line.get("kind") == "epoch"
        ]
        return cls(path, experiment=experiment, history=History(epochs))

    @property
    def checkpoint_path(self) -> Path:
        """The checkpoint holding the run's final model (``best.pt`` if early stopping restored it)."""
        name = self.summary.get("weights", "last.pt")
        path = self.dir / "checkpoints" / name
        if not path.is_file():
            fallback = self.dir / "checkpoints" / "last.pt"
            if fallback.is_file():
                return fallback
            raise CheckpointError(
                f"{path}: missing; the run has no checkpoint (did it finish an epoch?). "
                f"Resume it with `lamina train --resume {self.dir}` or train again"
            )
        return path

    @property
    def model(self) -> nn.Module:
        """The trained network (built from the config and loaded from the run's checkpoint), in eval mode."""
        if self._model is None:
            shape = self.summary.get("input_shape")
            if shape is None:
                raise CheckpointError(f"{self.dir / 'summary.json'}: no input_shape recorded; the run did not start")
            model = build_model(self.experiment.model, tuple(shape) if isinstance(shape[0], int) else shape)
            state = load_checkpoint(self.checkpoint_path)["state"]["model"]
            try:
                model.load_state_dict(state)
            except RuntimeError as err:
                raise CheckpointError(
                    f"{self.checkpoint_path}: does not fit the model in config.toml ({str(err).splitlines()[0]})"
                ) from None
            self._model = model.eval()
        return self._model

    @property
    def splits(self) -> Any:
        """The experiment's data (train, validation, test), loaded on first use."""
        if self._splits is None:
            self._splits = self.experiment.data.load()
        return self._splits

    def trainer(self, device: str | torch.device = "cpu") -> Any:
        """A :class:`~lamina.train.Trainer` around the model, with the experiment's loss and metrics."""
        cfg = self.experiment.train
        return Trainer(
            self.model,
            loss=cfg.loss,
            optimizer=None,
            metrics=cfg.metrics,
            batch_size=cfg.batch_size,
            device=device,
            seed=None,
        )

    def evaluate(self, split: str = "test", *, device: str | torch.device = "cpu") -> dict[str, float]:
        """Loss and metrics of the trained model on ``split`` (``train``, ``validation`` or ``test``)."""
        names = {"train": 0, "validation": 1, "val": 1, "test": 2}
        if split not in names:
            raise LaminaError(f"unknown split {split!r}; choose train, validation or test")
        data = self.splits[names[split]]
        if data is None:
            raise LaminaError(f"this experiment has no {split} split (set [data] validation to hold one out)")
        return self.trainer(device).evaluate(data)

    def predict(self, inputs: torch.Tensor, *, device: str | torch.device = "cpu") -> torch.Tensor:
        """The model's outputs for a batch of inputs (shape ``(N, *input_shape)``)."""
        return self.trainer(device).predict(inputs)

    def __repr__(self) -> str:
        return f"Run({str(self.dir)!r}, status={self.summary.get('status', '?')!r}, epochs={len(self.history)})"


def list_runs(root: str | Path = "runs") -> list[Run]:
    """Every run folder under ``root`` (newest first); folders that are not runs are skipped."""
    root = Path(root)
    if not root.is_dir():
        return []
    runs = []
    for path in root.iterdir():
        if (path / "config.toml").is_file():
            try:
                runs.append(Run(path, experiment=None, summary=read_summary(path)))
            except CheckpointError:
                continue
    return sorted(runs, key=lambda r: r.summary.get("started", ""), reverse=True)


def model_skeleton(source: str | Path, overrides: Sequence[str] = ()) -> tuple[nn.Module, str]:
    """``(model, name)``: the model of an experiment file or a run folder, built on the meta device (shapes and
    parameter counts, no storage) for its data's input shape; ``name`` is the experiment's (or the file's) name.

    A run folder gives the input shape it recorded; an experiment file's data is loaded (never downloaded) to read it.
    """
    source = Path(source)
    if source.is_dir():
        run = Run.open(source)
        experiment, shape = run.experiment, run.summary.get("input_shape")
        if shape is None:
            raise CheckpointError(f"{source / 'summary.json'}: no input_shape recorded; the run did not start")
        name = experiment.name or source.name
    else:
        experiment = load_experiment(source, list(overrides))
        shape = experiment.data.load().train.input_shape
        name = experiment.name or source.stem
    shape = tuple(shape) if isinstance(shape[0], int) else shape
    with torch.device("meta"):
        return build_model(experiment.model, shape), name
