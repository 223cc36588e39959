"""``lamina.train(experiment)``: load the data, build the network, pretrain it if asked, train it, evaluate it on
the test set, and leave a run folder with checkpoints, metrics, plots and a report. A killed run resumes with
``lamina.train(resume="runs/<run>")`` and ends with exactly the weights of an uninterrupted run (CPU, same seed).
"""
from __future__ import annotations

import contextlib
import time
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import torch

from lamina import __version__
from lamina.config.loader import load_experiment, to_toml
from lamina.config.schema import Experiment
from lamina.errors import CheckpointError, TrainingDivergedError
from lamina.nn.builder import build_model
from lamina.nn.summary import count_parameters, summarize
from lamina.train import distributed
from lamina.train.callbacks import (
    Callback,
    Checkpointer,
    EarlyStopping,
    MetricsLog,
    TensorBoard,
    progress_callback,
    read_metrics,
)
from lamina.train.checkpoint import load_checkpoint, remove_stale_temporaries, save_checkpoint
from lamina.train.runs import Run, new_run_dir, read_summary, write_summary
from lamina.train.trainer import Trainer

__all__ = ["train", "build_trainer", "seeded"]


@contextlib.contextmanager
def seeded(seed: int | None):
    """Run the enclosed code (e.g. weight initialisation) on a generator seeded with ``seed``, leaving the
    caller's global random state as it was."""
    if seed is None:
        yield
        return
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        yield


def _monitor(exp: Experiment, has_val: bool) -> tuple[str, str]:
    es = exp.train.early_stopping
    if es is not None:
        callback = es.build()
        return callback.monitor, callback.mode
    return ("val_loss" if has_val else "loss"), "min"


def build_trainer(exp: Experiment, model: torch.nn.Module, *, callbacks: Iterable[Callback] = ()) -> Trainer:
    """A :class:`Trainer` configured by ``exp.train``, with its early stopping and callbacks (before ``callbacks``)."""
    cfg = exp.train
    own = [c.build() for c in cfg.callbacks]
    if cfg.early_stopping is not None:
        own.append(cfg.early_stopping.build())
    return Trainer(model, loss=cfg.loss, optimizer=cfg.optimizer, schedule=cfg.schedule, metrics=cfg.metrics,
                   epochs=cfg.epochs, batch_size=cfg.batch_size, callbacks=[*own, *callbacks], device=cfg.device,
                   seed=cfg.seed, grad_clip=cfg.grad_clip, l1=cfg.l1, l2=cfg.l2, precision=cfg.precision,
                   compile=cfg.compile, eval_batch_size=cfg.eval_batch_size)


def _pretrain(exp: Experiment, model: torch.nn.Module, splits: Any, run_dir: Path, device: torch.device) -> dict:
    """Greedy pretraining, once: its result is kept in ``checkpoints/pretrained.pt`` for resumed runs."""
    done = run_dir / "checkpoints" / "pretrained.pt"
    if done.is_file():
        payload = load_checkpoint(done)
        model.load_state_dict(payload["state"]["model"])
        return payload.get("pretrain_summary", {})
    start = time.perf_counter()
    summary = exp.pretrain.pretrain(model, splits.train, device=device, seed=exp.train.seed,
                                    folder=run_dir / "checkpoints")
    summary["seconds"] = round(time.perf_counter() - start, 3)  # of this process (a resumed run: the remainder)
    if distributed.is_main():
        save_checkpoint({"model": model.state_dict()}, done, pretrain_summary=summary)
    distributed.barrier()
    return summary


def write_run_outputs(run_dir: Path, exp: Experiment, summary: dict[str, Any], model: torch.nn.Module) -> None:
    """Write the summary, the learning curves and the report."""
    from lamina.report import plot_learning_curves, plot_step_loss, write_report

    write_summary(run_dir, summary)
    lines = read_metrics(run_dir / "metrics.jsonl") if (run_dir / "metrics.jsonl").exists() else []
    epochs = [line for line in lines if line.get("kind") == "epoch"]
    loss_name = exp.train.loss.type_name if not hasattr(model, "training_loss") else "training objective"
    curves = plot_learning_curves(epochs, run_dir / "plots", loss_name=loss_name, title=exp.name or "")
    step_plot = plot_step_loss([line for line in lines if line.get("kind") == "step"], run_dir / "plots" / "loss_per_step.png",
                               loss_name=loss_name, title=exp.name or "")
    curves += [step_plot] if step_plot else []
    layers = [r.__dict__ for r in summarize(model)]
    write_report(run_dir, summary=summary, config_text=(run_dir / "config.toml").read_text(), layers=layers,
                 curves=curves, title=exp.name or run_dir.name)


def _open_run(experiment: Any, out: str | Path, resume: str | Path | None,
              overrides: Iterable[str]) -> tuple[Path, Experiment, dict[str, Any]]:
    """The run folder (made by rank 0 for a new run), the experiment and the previous summary of a resumed run."""
    if resume is not None:
        run_dir = Path(resume)
        if not (run_dir / "config.toml").is_file():
            raise CheckpointError(f"{run_dir}: not a run folder (no config.toml); give the folder `lamina train` made")
        exp = load_experiment(run_dir / "config.toml", overrides)
        if distributed.is_main():
            remove_stale_temporaries(run_dir / "checkpoints")
        return run_dir, exp, read_summary(run_dir)
    exp = experiment if isinstance(experiment, Experiment) else load_experiment(experiment, overrides)
    run_dir = None
    if distributed.is_main():
        run_dir = new_run_dir(out, exp.name or "run")
        (run_dir / "config.toml").write_text(to_toml(exp), encoding="utf-8")
    return Path(distributed.broadcast_object(str(run_dir))), exp, {}


def _run_callbacks(exp: Experiment, run_dir: Path, monitor: str, mode: str, progress: str) -> list[Callback]:
    """The callbacks that write the run folder (rank 0 only); the checkpointer last, so that every other callback's
    state is in the checkpoint."""
    if not distributed.is_main():
        return []
    found: list[Callback] = [MetricsLog(run_dir / "metrics.jsonl", log_every=exp.train.log_every)]
    if exp.train.tensorboard:
        found.append(TensorBoard(run_dir / "tensorboard", log_every=exp.train.log_every))
    bar = progress_callback(progress)
    found += [bar] if bar else []
    found.append(Checkpointer(run_dir / "checkpoints", every=exp.train.checkpoint_every, monitor=monitor, mode=mode,
                              meta={"config": to_toml(exp)}))
    return found


def _conclude(summary: dict[str, Any], trainer: Trainer, run_dir: Path, splits: Any, elapsed: float,
              previous: dict[str, Any]) -> None:
    summary["wall_time_s"] = round(previous.get("wall_time_s", 0.0) + elapsed, 3)
    summary.update(epochs=trainer.epoch, steps=trainer.step, final=trainer.history[-1] if len(trainer.history) else {})
    restored = any(getattr(cb, "restore_best", False) and getattr(cb, "best_weights", None) is not None
                   for cb in trainer.callbacks)
    summary["weights"] = "best.pt" if restored and (run_dir / "checkpoints" / "best.pt").is_file() else "last.pt"
    if summary["status"] in ("completed", "stopped") and splits.test is not None:
        summary["test"] = trainer.evaluate(splits.test)


def train(experiment: Experiment | str | Path | None = None, *, out: str | Path = "runs",
          resume: str | Path | None = None, overrides: Iterable[str] = (), callbacks: Iterable[Callback] = (),
          progress: str = "auto") -> Run:
    """Run an experiment and return its :class:`Run`.

    Under ``torchrun`` (``WORLD_SIZE`` > 1) every process trains its shard of each batch with
    ``DistributedDataParallel``; only rank 0 writes the run folder.

    Args:
        experiment: an :class:`Experiment` or the path of an experiment file (not needed with ``resume``).
        out: the folder that receives the run folder.
        resume: a run folder to continue from its last checkpoint (its own ``config.toml`` is used).
        overrides: ``["train.epochs=5", ...]`` applied to an experiment file.
        callbacks: extra :class:`Callback` objects.
        progress: ``auto`` (a bar on a terminal, lines otherwise), ``rich``, ``plain`` or ``none``.

    Raises:
        ConfigError, DataError, ShapeError: bad input, before any training.
        TrainingDivergedError: the loss became NaN/inf; the run folder keeps the last good checkpoint.
    """
    joined = distributed.init_from_env()
    try:
        return _train(experiment, out, resume, overrides, callbacks, progress)
    finally:
        if joined:
            torch.distributed.destroy_process_group()


def _train(experiment: Any, out: str | Path, resume: str | Path | None, overrides: Iterable[str],
           callbacks: Iterable[Callback], progress: str) -> Run:
    run_dir, exp, previous = _open_run(experiment, out, resume, overrides)
    main = distributed.is_main()
    splits = exp.data.load()
    with seeded(exp.train.seed):
        model = build_model(exp.model, splits.train.input_shape)
    monitor, mode = _monitor(exp, splits.validation is not None)
    last = run_dir / "checkpoints" / "last.pt"
    state = load_checkpoint(last)["state"] if resume is not None and last.is_file() else None
    trainer = build_trainer(exp, model, callbacks=[*callbacks, *_run_callbacks(exp, run_dir, monitor, mode, progress)])
    trainer.run_dir = run_dir if main else None  # callbacks that keep records (gradient_flow, ...) write there
    for cb in trainer.callbacks:
        if isinstance(cb, Checkpointer):
            cb.follow = next((es for es in trainer.callbacks if isinstance(es, EarlyStopping)), None)

    summary: dict[str, Any] = {
        "name": exp.name, "status": "running", "started": previous.get("started", time.strftime("%Y-%m-%dT%H:%M:%S")),
        "device": str(trainer.device), "processes": trainer.world_size, "input_shape": splits.train.input_shape,
        "parameters": count_parameters(model), "lamina_version": __version__, "torch_version": str(torch.__version__),
        "train_examples": len(splits.train), "validation_examples": len(splits.validation or []),
        "test_examples": len(splits.test or []),
    }
    if exp.pretrain is not None and state is None:
        summary["pretrain"] = _pretrain(exp, model, splits, run_dir, trainer.device)
    elif "pretrain" in previous:
        summary["pretrain"] = previous["pretrain"]
    if state is not None:
        trainer.load_state_dict(state)
    if main:
        write_summary(run_dir, summary)

    start = time.perf_counter()
    try:
        trainer.fit(splits.train, splits.validation)
        summary["status"] = "stopped" if trainer.stop_reason else "completed"
        summary["message"] = trainer.stop_reason
    except TrainingDivergedError as err:
        summary.update(status="diverged", message=str(err))
        raise
    except KeyboardInterrupt:
        summary.update(status="interrupted", message="interrupted; resume with `lamina train --resume RUN`")
        raise
    finally:
        _conclude(summary, trainer, run_dir, splits, time.perf_counter() - start, previous)
        if main:
            report_run = getattr(exp.data, "report_run", None)  # a dataset's own figures (series: forecasts)
            if report_run is not None and "test" in summary:
                summary.update(report_run(model, run_dir / "plots"))
            write_run_outputs(run_dir, exp, summary, model)
    return Run(run_dir, experiment=exp, history=trainer.history, summary=summary, model=model.eval(), splits=splits)
