"""``lamina.train(experiment)``: load the data, build the network, pretrain it if asked, train it, evaluate it on
the test set, and leave a run folder with checkpoints, metrics, plots and a report. A killed run resumes with
``lamina.train(resume="runs/<run>")`` and ends with exactly the weights of an uninterrupted run (CPU, same seed).
"""

from __future__ import annotations

import contextlib
import shlex
import shutil
import time
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import torch

from lamina import files
from lamina._version import __version__
from lamina.config.loader import load_experiment, to_toml
from lamina.config.schema import Experiment
from lamina.disk import DiskFullError, disk_errors
from lamina.errors import CheckpointError, TrainingDivergedError
from lamina.nn.builder import build_model
from lamina.nn.memory_estimate import check_model_memory
from lamina.nn.summary import count_parameters
from lamina.train import distributed
from lamina.train.callbacks import (
    Callback,
    Checkpointer,
    EarlyStopping,
    MetricsLog,
    TensorBoard,
    progress_callback,
)
from lamina.train.checkpoint import load_checkpoint, remove_stale_temporaries, save_checkpoint
from lamina.train.hogwild import HogwildTrainer
from lamina.train.lock import RunLock
from lamina.train.resume import check_resume_overrides, record_overrides, rescale_learning_rate
from lamina.train.rng import resolve_device, seeded  # seeded re-exported: its home was this module
from lamina.train.run_outputs import write_outputs_last
from lamina.train.runs import Run, new_run_dir, read_summary, write_summary
from lamina.train.trainer import Trainer

__all__ = ["train", "build_trainer", "seeded", "resume_command"]


def resume_command(run_dir: str | Path) -> str:
    """The shell command that continues the run in ``run_dir`` (its absolute path, quoted for the shell)."""
    return f"lamina train --resume {shlex.quote(str(Path(run_dir).resolve()))}"


def _monitor(exp: Experiment, has_val: bool) -> tuple[str, str]:
    es = exp.train.early_stopping
    if es is not None:
        callback = es.build()
        return callback.monitor, callback.mode
    return ("val_loss" if has_val else "loss"), "min"


def build_trainer(
    exp: Experiment, model: torch.nn.Module, *, callbacks: Iterable[Callback] = (), verbose: int = 1
) -> Trainer:
    """A :class:`Trainer` (a :class:`~lamina.train.hogwild.HogwildTrainer` with ``train.hogwild``) configured by
    ``exp.train``, with its early stopping and callbacks (before ``callbacks``);
    ``verbose`` as the trainer's, its epoch lines thinned by ``train.log_every``."""
    cfg = exp.train
    own = [c.build() for c in cfg.callbacks]
    if cfg.early_stopping is not None:
        own.append(cfg.early_stopping.build())
    kind, extra = (Trainer, {}) if cfg.hogwild is None else (HogwildTrainer, {"hogwild": cfg.hogwild.build()})
    return kind(
        model,
        **extra,
        loss=cfg.loss,
        optimizer=cfg.optimizer,
        schedule=cfg.schedule,
        metrics=cfg.metrics,
        epochs=cfg.epochs,
        batch_size=cfg.batch_size,
        callbacks=[*own, *callbacks],
        device=cfg.device,
        seed=cfg.seed,
        grad_clip=cfg.grad_clip,
        l1=cfg.l1,
        l2=cfg.l2,
        precision=cfg.precision,
        compile=cfg.compile,
        eval_batch_size=cfg.eval_batch_size,
        verbose=verbose,
        log_every=cfg.log_every,
    )


def _pretrain(exp: Experiment, model: torch.nn.Module, splits: Any, run_dir: Path, device: torch.device) -> dict:
    """Greedy pretraining, once: its result is kept in ``checkpoints/pretrained.pt`` for resumed runs."""
    done = run_dir / "checkpoints" / "pretrained.pt"
    if done.is_file():
        payload = load_checkpoint(done)
        model.load_state_dict(payload["state"]["model"])
        return payload.get("pretrain_summary", {})
    start = time.perf_counter()
    summary = exp.pretrain.pretrain(
        model, splits.train, device=device, seed=exp.train.seed, folder=run_dir / "checkpoints"
    )
    summary["seconds"] = round(time.perf_counter() - start, 3)  # of this process (a resumed run: the remainder)
    if distributed.is_main():
        save_checkpoint({"model": model.state_dict()}, done, pretrain_summary=summary)
    distributed.barrier()
    return summary


def _open_run(
    experiment: Any, out: str | Path, resume: str | Path | None, overrides: Iterable[str], lock: contextlib.ExitStack
) -> tuple[Path, Experiment, dict[str, Any]]:
    """The run folder (made by rank 0 for a new run, and locked by it for the run's length: see
    :class:`~lamina.train.lock.RunLock`), the experiment and the previous summary of a resumed run."""
    if resume is not None:
        run_dir = Path(resume)
        if not (run_dir / "config.toml").is_file():
            raise CheckpointError(f"{run_dir}: not a run folder (no config.toml); give the folder `lamina train` made")
        exp = load_experiment(run_dir / "config.toml", check_resume_overrides(overrides))
        if distributed.is_main():
            lock.enter_context(RunLock(run_dir))  # before anything is touched: the temporaries may be the holder's
            remove_stale_temporaries(run_dir / "checkpoints")
        return run_dir, exp, read_summary(run_dir)
    exp = experiment if isinstance(experiment, Experiment) else load_experiment(experiment, overrides)
    run_dir = None
    if distributed.is_main():
        run_dir = new_run_dir(out, exp.name or "run")
        lock.enter_context(RunLock(run_dir))
        with disk_errors(run_dir / "config.toml"):
            files.write_text(run_dir / "config.toml", to_toml(exp))
    return Path(distributed.broadcast_object(str(run_dir))), exp, {}


def _run_callbacks(exp: Experiment, run_dir: Path, monitor: str, mode: str, progress: str) -> list[Callback]:
    """The callbacks that write the run folder (rank 0 only); the checkpointer last, so that every other callback's
    state is in the checkpoint."""
    if not distributed.is_main():
        return []
    found: list[Callback] = [MetricsLog(run_dir / "metrics.jsonl", log_every=exp.train.log_every)]
    if exp.train.tensorboard:
        found.append(TensorBoard(run_dir / "tensorboard", log_every=exp.train.log_every))
    printer = progress_callback(progress, log_every=exp.train.log_every)  # the trainer's own, with the chosen display
    found += [printer] if printer else []
    found.append(
        Checkpointer(
            run_dir / "checkpoints",
            every=exp.train.checkpoint_every,
            monitor=monitor,
            mode=mode,
            meta={"config": to_toml(exp)},
            every_steps=exp.train.checkpoint_every_steps,
            every_minutes=exp.train.checkpoint_every_minutes,
        )
    )
    return found


def _conclude(
    summary: dict[str, Any], trainer: Trainer, run_dir: Path, splits: Any, elapsed: float, previous: dict[str, Any]
) -> None:
    summary["wall_time_s"] = round(previous.get("wall_time_s", 0.0) + elapsed, 3)
    summary.update(epochs=trainer.epoch, steps=trainer.step, final=trainer.history[-1] if len(trainer.history) else {})
    restored = any(
        getattr(cb, "restore_best", False) and getattr(cb, "best_weights", None) is not None for cb in trainer.callbacks
    )
    summary["weights"] = "best.pt" if restored and (run_dir / "checkpoints" / "best.pt").is_file() else "last.pt"
    if summary["status"] in ("completed", "stopped") and splits is not None and splits.test is not None:
        summary["test"] = trainer.evaluate(splits.test)


def train(
    experiment: Experiment | str | Path | None = None,
    *,
    out: str | Path = "runs",
    resume: str | Path | None = None,
    overrides: Iterable[str] = (),
    callbacks: Iterable[Callback] = (),
    progress: str = "auto",
) -> Run:
    """Run an experiment and return its :class:`Run`.

    Under ``torchrun`` (``WORLD_SIZE`` > 1) every process trains its shard of each batch with
    ``DistributedDataParallel``; only rank 0 writes the run folder.

    Args:
        experiment: an :class:`Experiment` or the path of an experiment file (not needed with ``resume``).
        out: the folder that receives the run folder.
        resume: a run folder to continue from its last checkpoint (its own ``config.toml`` is used).
        overrides: ``["train.epochs=5", ...]`` applied to an experiment file.
        callbacks: extra :class:`Callback` objects.
        progress: what the console shows (:class:`~lamina.train.callbacks.ProgressPrinter`, the printer of
            ``Trainer(verbose=1)``): a line per epoch (at most ``train.log_every`` steps apart) and, within epochs
            longer than a few seconds, a bar on a terminal and plain lines otherwise (``auto``), always a bar
            (``rich``), never one (``plain``), or nothing (``none``).

    Raises:
        ConfigError, DataError, ShapeError: bad input, before any training.
        TrainingDivergedError: the loss became NaN/inf; the run folder keeps the last good checkpoint.
        InsufficientMemoryError: the model cannot fit in the device's free memory (checked before it is built).
        RunLockedError: another live process is training the run folder given to ``resume``.
        DiskFullError: a write failed for lack of space (or over a file-size limit); the last checkpoint is whole
            and ``summary.json`` says ``disk_full`` where it could still be written.
    """
    joined = distributed.init_from_env()
    try:
        with contextlib.ExitStack() as lock:
            return _train(experiment, out, resume, overrides, callbacks, progress, lock)
    finally:
        if joined:
            torch.distributed.destroy_process_group()


def _apply_resume_overrides(
    run_dir: Path, exp: Experiment, overrides: list[str], state: dict[str, Any] | None, previous: dict[str, Any]
) -> None:
    """Make the checkpoint ``state`` (if any) follow the overrides (the learning rate lives in it) and record them in
    ``config.toml`` and the summary."""
    old = load_experiment(run_dir / "config.toml")
    old_lr, new_lr = (getattr(e.train.optimizer, "lr", None) for e in (old, exp))
    if state is not None and old_lr is not None and new_lr is not None:
        rescale_learning_rate(state, old_lr, new_lr)
    distributed.barrier()  # every process has read the old config before rank 0 rewrites it
    if distributed.is_main():
        epoch = state["epoch"] if state is not None else 0
        entries = record_overrides(run_dir / "config.toml", to_toml(exp), overrides, epoch)
        previous["overrides"] = [*previous.get("overrides", []), *entries]


def _setup(
    exp: Experiment,
    run_dir: Path,
    resume: Any,
    overrides: list[str],
    callbacks: Iterable[Callback],
    progress: str,
    previous: dict[str, Any],
) -> tuple[Any, torch.nn.Module, Trainer, dict | None]:
    """Data, model, trainer and (resuming) the checkpoint's state: everything that can fail before training."""
    splits = exp.data.load()
    check_model_memory(
        exp.model, splits.train.input_shape, batch_size=exp.train.batch_size, device=resolve_device(exp.train.device)
    )  # before allocating: names a layer too big to fit
    with seeded(exp.train.seed):
        model = build_model(exp.model, splits.train.input_shape)
    monitor, mode = _monitor(exp, splits.validation is not None)
    last = run_dir / "checkpoints" / "last.pt"
    state = load_checkpoint(last)["state"] if resume is not None and last.is_file() else None
    if overrides and resume is not None:
        _apply_resume_overrides(run_dir, exp, overrides, state, previous)
    trainer = build_trainer(
        exp,
        model,
        callbacks=[*callbacks, *_run_callbacks(exp, run_dir, monitor, mode, progress)],
        verbose=0 if progress == "none" else 1,
    )
    trainer.run_dir = run_dir if distributed.is_main() else None  # callbacks that keep records write there
    for cb in trainer.callbacks:
        if isinstance(cb, Checkpointer):
            cb.follow = next((es for es in trainer.callbacks if isinstance(es, EarlyStopping)), None)
    if state is not None:
        trainer.load_state_dict(state)
    return splits, model, trainer, state


def _train(
    experiment: Any,
    out: str | Path,
    resume: str | Path | None,
    overrides: Iterable[str],
    callbacks: Iterable[Callback],
    progress: str,
    lock: contextlib.ExitStack,
) -> Run:
    overrides = list(overrides)
    run_dir, exp, previous = _open_run(experiment, out, resume, overrides, lock)
    main = distributed.is_main()
    try:
        splits, model, trainer, state = _setup(exp, run_dir, resume, overrides, callbacks, progress, previous)
    except BaseException:
        if resume is None and main:  # nothing was trained: leave no orphan run folder
            shutil.rmtree(run_dir, ignore_errors=True)
        raise

    summary: dict[str, Any] = {
        "name": exp.name,
        "status": "running",
        "started": previous.get("started", time.strftime("%Y-%m-%dT%H:%M:%S")),
        "device": str(trainer.device),
        "processes": trainer.world_size,
        "input_shape": splits.train.input_shape,
        "parameters": count_parameters(model),
        "lamina_version": __version__,
        "torch_version": str(torch.__version__),
        "train_examples": len(splits.train),
        "validation_examples": len(splits.validation or []),
        "test_examples": len(splits.test or []),
    }
    if "overrides" in previous:
        summary["overrides"] = previous["overrides"]
    if "pretrain" in previous and (exp.pretrain is None or state is not None):
        summary["pretrain"] = previous["pretrain"]
    if main:
        write_summary(run_dir, summary)

    start, phase = time.perf_counter(), "training"
    try:
        if exp.pretrain is not None and state is None:
            phase = "pretraining"
            summary["pretrain"] = _pretrain(exp, model, splits, run_dir, trainer.device)
            phase = "training"
        trainer.fit(splits.train, splits.validation)
        summary["status"] = "stopped" if trainer.stop_reason else "completed"
        summary["message"] = trainer.stop_reason
    except TrainingDivergedError as err:
        summary.update(
            status="diverged",
            message=str(err),
            diverged={"phase": phase, "epoch": err.epoch, "step": err.step, "value": err.value},
        )
        raise
    except DiskFullError as err:  # the checkpoints on disk are whole: the atomic write kept the last good one
        summary.update(status="disk_full", message=str(err))
        raise
    except KeyboardInterrupt as err:
        command = resume_command(run_dir)
        summary.update(
            status="interrupted",
            resume_command=command,
            message=f"interrupted in epoch {trainer.epoch + 1} (step {trainer.step}); resume with `{command}`",
        )
        err.run_dir, err.resume_command = run_dir, command  # type: ignore[attr-defined]  # for the command line
        raise
    finally:
        _conclude(summary, trainer, run_dir, splits, time.perf_counter() - start, previous)
        if main:
            report_run = getattr(exp.data, "report_run", None)  # a dataset's own figures (series: forecasts)
            if report_run is not None and "test" in summary:
                summary.update(report_run(model, run_dir / "plots"))
            write_outputs_last(run_dir, exp, summary, model)
    return Run(run_dir, experiment=exp, history=trainer.history, summary=summary, model=model.eval(), splits=splits)
