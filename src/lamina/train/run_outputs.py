"""What a run folder holds besides its checkpoints and metrics: the learning curves, the HTML report (with the model's
drawing) and ``summary.json``, written in that order at the end of a run, so that a run killed while writing its
report still says ``running`` and ``lamina train --resume`` (or ``lamina diagnose``) writes them again."""

from __future__ import annotations

import contextlib
import sys
import warnings
from pathlib import Path
from typing import Any

import torch

from lamina.config.schema import Experiment
from lamina.disk import DiskFullError
from lamina.nn.summary import summarize
from lamina.train.callbacks import read_metrics
from lamina.train.runs import write_summary

__all__ = ["draw_model", "write_outputs_last", "write_run_outputs"]


def write_run_outputs(run_dir: Path, exp: Experiment, summary: dict[str, Any], model: torch.nn.Module) -> None:
    """Write the learning curves, the report and then the summary: a run killed while writing its report still says
    ``running`` in ``summary.json``, and ``lamina train --resume`` writes them again."""
    from lamina.report import plot_learning_curves, plot_step_loss, write_report

    try:
        lines = read_metrics(run_dir / "metrics.jsonl") if (run_dir / "metrics.jsonl").exists() else []
        epochs = [line for line in lines if line.get("kind") == "epoch"]
        loss_name = exp.train.loss.type_name if not hasattr(model, "training_loss") else "training objective"
        curves = plot_learning_curves(epochs, run_dir / "plots", loss_name=loss_name, title=exp.name or "")
        step_plot = plot_step_loss(
            [line for line in lines if line.get("kind") == "step"],
            run_dir / "plots" / "loss_per_step.png",
            loss_name=loss_name,
            title=exp.name or "",
        )
        curves += [step_plot] if step_plot else []
        layers = [r.__dict__ for r in summarize(model)]
        write_report(
            run_dir,
            summary=summary,
            config_text=(run_dir / "config.toml").read_text(),
            layers=layers,
            curves=curves,
            drawing=draw_model(model, run_dir / "plots" / "model.png", exp.name or run_dir.name),
            title=exp.name or run_dir.name,
        )
    finally:  # a report that fails (or a Ctrl-C in it) still leaves the run's outcome on record
        write_summary(run_dir, summary)


def draw_model(model: torch.nn.Module, path: Path, title: str) -> Path | None:
    """The model's drawing for the report; a model the drawing cannot handle costs the report its picture, not the
    report (the failure is warned about)."""
    from lamina.report.drawing import draw

    try:
        return draw(model, path, title=title)
    except DiskFullError:
        raise
    except Exception as err:  # noqa: BLE001  (the report and summary matter more than the picture)
        warnings.warn(f"{path}: the model drawing failed ({type(err).__name__}: {err})", stacklevel=2)
        return None


def write_outputs_last(run_dir: Path, exp: Experiment, summary: dict[str, Any], model: torch.nn.Module) -> None:
    """:func:`write_run_outputs` at the end of a run. A full disk there is recorded in ``summary.json``
    (``status = "disk_full"``) when it still fits, and raised only if no other error is already on its way."""
    in_flight = sys.exc_info()[1]  # called from a ``finally``: the run's own error, if it failed
    try:
        write_run_outputs(run_dir, exp, summary, model)
    except DiskFullError as err:
        if summary.get("status") != "disk_full":
            summary.update(status="disk_full", message=str(err), previous_status=summary.get("status"))
        with contextlib.suppress(DiskFullError):
            write_summary(run_dir, summary)
        if in_flight is None:
            raise
