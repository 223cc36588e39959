"""``lamina.zoo``: build a catalogued model from its recipe, load it back from its sha256-checked weights file, and
measure its figure (as Keras' ``applications`` and torchvision's ``models`` do for their pretrained networks, with the
recipe beside every file so that each can be rebuilt and checked here)."""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch
from torch import nn

from lamina._version import __version__
from lamina.config.loader import load_experiment
from lamina.data.sources import sha256_of
from lamina.errors import LaminaError
from lamina.export import export, load
from lamina.train.experiment import train
from lamina.train.runs import Run
from lamina.zoo.catalog import ZooEntry, entry
from lamina.zoo.store import record, recorded, zoo_home

__all__ = ["Built", "build", "load_model", "figure_of"]


@dataclass(frozen=True)
class Built:
    """What :func:`build` made: the weights file, its sha256, the figure measured on the file's model, and whether it
    meets the entry's target."""

    entry: ZooEntry
    path: Path
    sha256: str
    figure: float
    meets_target: bool
    run: Path


def figure_of(zoo_entry: ZooEntry, model: nn.Module, overrides: Sequence[str] = ()) -> tuple[float, dict[str, float]]:
    """``(figure, metrics)``: ``model`` evaluated on the entry's split with its recipe's loss and metrics (the figure
    is ``1 - accuracy`` for ``error``, the loss for ``loss``)."""
    experiment = load_experiment(zoo_entry.recipe, list(overrides))
    metrics = Run(zoo_home(), experiment=experiment, summary={}, model=model.eval()).evaluate(zoo_entry.split)
    if zoo_entry.metric == "error":
        return 1.0 - metrics["accuracy"], metrics
    return metrics["loss"], metrics


def build(name: str, *, overrides: Sequence[str] = (), progress: str = "auto") -> Built:
    """Train ``name``'s recipe, save its weights as ``<zoo>/<name>-v<version>.safetensors`` (with the resolved
    config beside it), and record the file's sha256 and the figure its model reaches.

    The figure is measured on the model loaded back from the file, so :func:`load_model` reproduces it exactly.
    ``overrides`` (``["train.epochs=2"]``) make a variant: it is recorded with them and checked against the same
    target.
    """
    zoo_entry = entry(name)
    home = zoo_home()
    start = time.perf_counter()
    run = train(zoo_entry.recipe, out=home / "runs", overrides=list(overrides), progress=progress)
    path = home / zoo_entry.filename
    export(run.dir, "safetensors", path)
    figure, metrics = figure_of(zoo_entry, load(path), overrides)
    digest = sha256_of(path)
    meets = figure <= zoo_entry.target
    record(
        zoo_entry.filename,
        {
            "name": zoo_entry.name,
            "version": zoo_entry.version,
            "sha256": digest,
            "metric": zoo_entry.metric,
            "split": zoo_entry.split,
            "figure": figure,
            "metrics": metrics,
            "target": zoo_entry.target,
            "meets_target": meets,
            "overrides": list(overrides),
            "run": str(run.dir),
            "seconds": round(time.perf_counter() - start, 1),
            "lamina_version": __version__,
            "torch_version": torch.__version__,
        },
        home,
    )
    return Built(zoo_entry, path, digest, figure, meets, run.dir)


def load_model(name: str, *, check: bool = False) -> Any:
    """The model ``name`` from its weights file, after checking the file's sha256 (the entry's published one, else
    the one recorded when it was built here); in eval mode.

    With ``check`` the model is also evaluated and must reproduce the recorded figure exactly.

    Raises:
        LaminaError: the file is missing (build it first), has no sha256 on record, or its sha256 differs.
    """
    zoo_entry = entry(name)
    path = zoo_home() / zoo_entry.filename
    if not path.is_file():
        raise LaminaError(
            f"{path}: not built yet; `lamina zoo build {name}` trains it (about {zoo_entry.minutes:g} min on two CPU "
            "cores), or set LAMINA_ZOO to a folder holding it"
        )
    on_record = recorded(zoo_entry.filename)
    expected = zoo_entry.sha256 or (on_record or {}).get("sha256")
    if expected is None:
        raise LaminaError(f"{path}: no sha256 on record for this file; rebuild it with `lamina zoo build {name}`")
    actual = sha256_of(path)
    if actual != expected:
        raise LaminaError(
            f"{path}: sha256 mismatch: expected {expected}, got {actual}. The file is corrupt or not the one built "
            f"or published; refusing to load it (rebuild it with `lamina zoo build {name}`)"
        )
    model = load(path)
    if check:
        if on_record is None:
            raise LaminaError(f"{path}: no figure on record to check against (it was not built here)")
        figure, _ = figure_of(zoo_entry, model, on_record.get("overrides", ()))
        if figure != on_record["figure"]:
            raise LaminaError(
                f"{path}: {zoo_entry.split} {zoo_entry.metric} {figure!r} differs from the recorded "
                f"{on_record['figure']!r}"
            )
    return model.eval()
