"""The training loop every method plugs into.

A model is trained either on ``loss(model(x), y)`` or, if it defines ``training_loss(batch)``, on that
(an RBM's CD/PCD surrogate, an autoencoder's reconstruction error). Optimizers that re-evaluate the loss
(L-BFGS, Hessian-free, EKF) get a :class:`~lamina.train.closure.Closure`. Callbacks observe; the trainer owns the
optimizer, scheduler, device, precision and randomness, and all of it is in :meth:`Trainer.state_dict`, so a run
resumed from a checkpoint continues bit for bit.

The hot path is a hand-written PyTorch loop plus a running loss sum kept on the device
(``benchmarks/trainer_overhead.py`` measures the difference).
"""

from __future__ import annotations

import contextlib
import itertools
import math
import time
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

import torch
from torch import nn

from lamina.data.loader import make_loader
from lamina.errors import ConfigError, TrainingDivergedError
from lamina.metrics.standard import Mean, Metric, load_metric_state, metric_state
from lamina.nn.max_norm import constrained_weights
from lamina.registry import resolve
from lamina.train import distributed, evaluation
from lamina.train.callbacks.base import Callback
from lamina.train.callbacks.progress import ProgressPrinter
from lamina.train.history import History
from lamina.train.rng import RngStreams, resolve_device
from lamina.train.steps import check_grad_clip, choose_step

__all__ = ["Trainer"]


def _build(kind: str, spec: Any, path: str, *args: Any, **kwargs: Any) -> Any:
    return resolve(kind, spec, path=path).build(*args, **kwargs)


_LR_SCHEDULER = torch.optim.lr_scheduler.LRScheduler
_PLATEAU = torch.optim.lr_scheduler.ReduceLROnPlateau
FINITE_CHECK_EVERY = 32  # steps between reads of the queued finiteness flag on an accelerator (see _check_finite)


def _schedule(schedule: Any, interval: str | None) -> tuple[Any, Any, str, str | None]:
    """``(spec, scheduler, interval, monitor)`` for the trainer's ``schedule`` argument.

    A lamina schedule (name or table) is a ``LambdaLR`` stepped after every optimizer step (its own ``interval``
    decides whether its factor changes per step or per epoch). A torch ``LRScheduler`` is stepped once per epoch
    unless ``interval="step"``; as in Lightning, ``{"scheduler": s, "interval": "step", "monitor": "val_loss"}``
    is accepted too, ``monitor`` naming the logged value a ``ReduceLROnPlateau`` watches.
    """
    monitor = None
    if isinstance(schedule, dict) and "scheduler" in schedule:
        unknown = sorted(set(schedule) - {"scheduler", "interval", "monitor"})
        if unknown:
            raise ValueError(f"`schedule` as a dict takes 'scheduler', 'interval' and 'monitor', got {unknown}")
        interval = schedule.get("interval", interval)
        monitor = schedule.get("monitor")
        schedule = schedule["scheduler"]
        if not isinstance(schedule, _LR_SCHEDULER):
            raise ValueError(f"`schedule['scheduler']` must be a torch LRScheduler, got {type(schedule).__name__}")
    if isinstance(schedule, _LR_SCHEDULER):
        interval = interval or "epoch"
        if interval not in ("epoch", "step"):
            raise ValueError(f"`schedule_interval` must be 'epoch' or 'step', got {interval!r}")
        if isinstance(schedule, _PLATEAU) and interval != "epoch":
            raise ValueError(
                "`schedule_interval` must be 'epoch' for ReduceLROnPlateau: it watches an epoch's "
                "logged value (`monitor`)"
            )
        return None, schedule, interval, monitor
    if interval is not None or monitor is not None:
        raise ValueError(
            "`schedule_interval` applies to a torch LRScheduler; a lamina schedule (name or table) "
            "sets `interval` in its own table"
        )
    spec = None if schedule is None else resolve("schedule", schedule, path="train.schedule")
    return spec, None, "step", None


def _non_finite(logs: dict[str, Any]) -> tuple[str, float] | None:
    """The first loss in an epoch's logs (``loss``, ``val_loss``, ``val_head_loss``, ...) that is NaN or infinite."""
    for name, value in logs.items():
        if name.endswith("loss") and isinstance(value, float) and not math.isfinite(value):
            return name, value
    return None


class Trainer:
    """Train a ``torch.nn.Module``.

    Args:
        model: the network; if it defines ``training_loss(batch)``, that is minimised and ``loss`` is unused.
        loss: a loss name or table (``"cross_entropy"``), or any callable ``loss(output, target)``.
        optimizer: a name or table (``{"type": "sgd", "lr": 0.1}``), a ``torch.optim.Optimizer`` already built
            on the model's parameters, a function ``params -> Optimizer``, or ``None`` for a trainer that only
            evaluates and predicts.
        schedule: a schedule name or table (stepped after every optimizer step), a torch ``LRScheduler`` already
            built on the optimizer (stepped per ``schedule_interval``), a Lightning-style dict
            ``{"scheduler": s, "interval": "step" | "epoch", "monitor": "val_loss"}``, or ``None``.
        schedule_interval: when a torch ``LRScheduler`` steps: ``"epoch"`` (the default, after validation) or
            ``"step"`` (after every optimizer step). A ``ReduceLROnPlateau`` steps per epoch on ``monitor``
            (default ``val_loss`` when there is a validation set, else ``loss``).
        metrics: metric names/tables or :class:`Metric` objects; default: those suited to the loss.
        epochs: passes over the training set.
        batch_size: examples per optimizer step.
        callbacks: :class:`Callback` objects, run in order.
        device: ``"auto"`` (cuda, then mps, then cpu), or any torch device.
        seed: seeds weights-independent randomness (shuffling, dropout, sampling) inside the trainer without
            touching the caller's global RNG; ``None`` uses the global generators as they are.
        grad_clip: clip the gradients' global L2 norm to this value (inside the closure for L-BFGS; refused with a
            ``ConfigError`` for Hessian-free, EKF and evolution strategies, which do not step along a gradient).
        l1, l2: penalties ``l1 * sum|w|`` and ``(l2 / 2) * sum w^2`` over weight matrices and kernels (not biases).
            Weights with a max-norm constraint (a layer's ``max_norm`` option, :func:`lamina.nn.apply_max_norm`) are
            projected back to their bound after every optimizer step (Srivastava et al., 2014).
        precision: ``fp32``, ``bf16`` or ``fp16`` (autocast; fp16 uses a gradient scaler on CUDA).
        compile: wrap the model's forward in ``torch.compile``.
        eval_batch_size: batch size for evaluation (default: ``max(batch_size, 1024)``).
        shuffle: draw a fresh order of the training set every epoch (default); ``False`` runs the batches in the
            data's order every epoch (scikit-learn's ``shuffle=False``).
        verbose: what :meth:`fit` prints, as in Keras: ``1`` (the default) a line per epoch (its metrics, time and
            samples/s) and, within epochs longer than a few seconds, a progress bar on a terminal (a plain line every
            30 s elsewhere); ``2`` the epoch lines only; ``0`` nothing. The same lines as ``lamina train``
            (:class:`~lamina.train.callbacks.ProgressPrinter`); a printer among ``callbacks`` replaces this one.
        log_every: at most this many optimizer steps between two printed epoch lines, for runs of many short epochs
            (``None``: every epoch; the experiment file's ``train.log_every``).

    Example:
        >>> trainer = Trainer(model, loss="cross_entropy", optimizer={"type": "adam", "lr": 1e-3}, epochs=5)
        >>> history = trainer.fit(train, val)
        >>> trainer.evaluate(test)["accuracy"]
    """

    # restored by load_state_dict, applied by the next fit (the scheduler and callbacks are built there)
    _pending_scheduler_state: dict | None = None
    _pending_callback_states: list | None = None
    _pending_position: dict | None = None  # where a mid-epoch checkpoint was taken
    # the run folder when lamina.train() drives this trainer (None otherwise): callbacks may write records there
    run_dir: Path | None = None

    def __init__(
        self,
        model: nn.Module,
        *,
        loss: Any = "cross_entropy",
        optimizer: Any = "adam",
        schedule: Any = None,
        metrics: Sequence[Any] | None = None,
        epochs: int = 10,
        batch_size: int = 128,
        callbacks: Iterable[Callback] = (),
        device: str | torch.device = "auto",
        seed: int | None = 0,
        grad_clip: float | None = None,
        l1: float = 0.0,
        l2: float = 0.0,
        precision: str = "fp32",
        compile: bool = False,
        eval_batch_size: int | None = None,
        schedule_interval: str | None = None,
        shuffle: bool = True,
        verbose: int = 1,
        log_every: int | None = None,
    ) -> None:
        if verbose not in (0, 1, 2) or isinstance(verbose, bool):
            raise ValueError(
                f"`verbose` must be 0 (silent), 1 (epoch lines and a bar) or 2 (epoch lines), got {verbose!r}"
            )
        for name, value in (("epochs", epochs), ("batch_size", batch_size)):
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise ValueError(f"`{name}` must be a positive integer, got {value!r}")
        if grad_clip is not None and not grad_clip > 0:
            raise ValueError(f"`grad_clip` must be a positive number or None, got {grad_clip!r}")
        if l1 < 0 or l2 < 0:
            raise ValueError(f"`l1` and `l2` must be >= 0, got l1={l1!r}, l2={l2!r}")
        if precision not in ("fp32", "bf16", "fp16"):
            raise ValueError(f"`precision` must be one of 'fp32', 'bf16', 'fp16', got {precision!r}")
        self.device = resolve_device(device)
        self.model = model.to(self.device)
        self.uses_model_loss = hasattr(model, "training_loss")
        self.loss_spec = None if self.uses_model_loss or callable(loss) else resolve("loss", loss, path="train.loss")
        self.loss_fn = None if self.uses_model_loss else (loss if callable(loss) else self.loss_spec.build())
        self.metrics = self._metrics(metrics)
        self.optimizer, self.needs_closure = self._optimizer(optimizer)
        if self.needs_closure:
            check_grad_clip(self.optimizer, grad_clip)
        self.schedule_spec, self.scheduler, self.schedule_interval, self.schedule_monitor = _schedule(
            schedule, schedule_interval
        )
        self.epochs, self.batch_size, self.shuffle = epochs, batch_size, bool(shuffle)
        self.eval_batch_size = eval_batch_size or max(batch_size, 1024)
        self.callbacks = list(callbacks)
        self.verbose, self.log_every = verbose, log_every
        self._hooks: list[Callback] = self.callbacks  # the callbacks and the printer, during fit
        self.grad_clip, self.l1, self.l2 = grad_clip, l1, l2
        self.precision = precision
        self.scaler = torch.amp.GradScaler("cuda") if precision == "fp16" and self.device.type == "cuda" else None
        self._step_fn = choose_step(needs_closure=self.needs_closure, scaled=self.scaler is not None)
        self.forward_model = torch.compile(self.model) if compile else self.model
        self.objective = getattr(self.model, "training_loss", None)
        self.rank, self.world_size = distributed.world()
        if self.world_size > 1:
            self._distribute()
        self.rng = RngStreams(seed, self.device, rank=self.rank)
        self.epoch = 0  # completed epochs
        self.step = 0  # optimizer steps taken
        self.history = History()
        self.stop_training = False
        self.stop_reason = ""
        self._last_good: dict[str, torch.Tensor] | None = None
        # on an accelerator the loss's finiteness is queued as a device flag and read every few steps, so the host
        # never waits for the device on each step (see _check_finite); on the CPU reading it costs nothing
        self._defer_finite = self.device.type != "cpu"
        self._nonfinite: tuple[torch.Tensor, torch.Tensor] | None = None
        self._checked_step = 0
        self._position: dict[str, Any] | None = None  # inside an epoch: batches done, the epoch's shuffle state
        # (weight, c) of every max-norm-constrained weight, projected after each optimizer step (found again by fit)
        self.constrained = constrained_weights(self.model)

    # -- setup ------------------------------------------------------------------------------------------------

    def _distribute(self) -> None:
        if self.needs_closure:
            raise ConfigError(
                f"train.optimizer: {type(self.optimizer).__name__} re-evaluates the loss through a "
                "closure, which distributed data-parallel training cannot synchronise; run it in one "
                "process (plain `lamina train`)"
            )
        if self.batch_size < self.world_size:
            raise ConfigError(
                f"train.batch_size: {self.batch_size} cannot be sharded over {self.world_size} processes; "
                f"the global batch needs at least one example per process"
            )
        if self.uses_model_loss:
            wrapped = distributed.wrap(distributed.Objective(self.model), self.device)
            self.objective = lambda batch: wrapped(*batch)
        else:
            self.forward_model = distributed.wrap(self.forward_model, self.device)

    def _metrics(self, metrics: Sequence[Any] | None) -> list[Metric]:
        if self.uses_model_loss and not metrics:
            return []
        if metrics is not None and getattr(self.loss_spec, "heads", None):
            raise ConfigError(
                "train.metrics: a multi-task loss logs metrics per head; set them as train.loss.heads[i].metrics"
            )
        if metrics is None:
            metrics = list(getattr(self.loss_spec, "default_metrics", ()))
        return [
            m if isinstance(m, Metric) else _build("metric", m, f"train.metrics[{i}]") for i, m in enumerate(metrics)
        ]

    def _optimizer(self, optimizer: Any) -> tuple[torch.optim.Optimizer | None, bool]:
        """The optimizer and whether its ``step`` needs a closure (L-BFGS, or ``needs_closure`` on it or its spec)."""

        def closure_kind(built: Any) -> bool:
            """Whether ``built.step`` takes a closure."""
            return bool(getattr(built, "needs_closure", False)) or isinstance(built, torch.optim.LBFGS)

        if optimizer is None or isinstance(optimizer, torch.optim.Optimizer):
            return optimizer, closure_kind(optimizer)
        params = [p for p in self.model.parameters() if p.requires_grad]
        if not params:
            raise ConfigError("the model has no trainable parameters to optimize")
        if callable(optimizer) and not isinstance(optimizer, (str, dict)) and not hasattr(optimizer, "build"):
            built = optimizer(params)
            return built, closure_kind(built)
        spec = resolve("optimizer", optimizer, path="train.optimizer")
        built = spec.build(params)
        return built, spec.needs_closure or closure_kind(built)

    def _autocast(self) -> contextlib.AbstractContextManager:
        if self.precision == "fp32":
            return contextlib.nullcontext()
        dtype = torch.bfloat16 if self.precision == "bf16" else torch.float16
        return torch.autocast(self.device.type, dtype=dtype)

    def _penalized(self) -> list[nn.Parameter]:
        return [p for p in self.model.parameters() if p.requires_grad and p.dim() > 1]

    def _penalty(self) -> torch.Tensor | None:
        if not (self.l1 or self.l2):
            return None
        total = torch.zeros((), device=self.device)
        for w in self._penalized():
            if self.l1:
                total = total + self.l1 * w.abs().sum()
            if self.l2:
                total = total + 0.5 * self.l2 * w.pow(2).sum()
        return total

    @torch.no_grad()
    def _add_penalty_gradient(self) -> None:
        """Add ``l1 sign(w) + l2 w`` to each weight's gradient: what backward through :meth:`_penalty` gives,
        without its autograd graph (on small networks that graph cost as much as the network's own backward)."""
        for w in self._penalized():
            g = w.grad
            if self.l2:
                g = w.mul(self.l2) if g is None else g.add_(w, alpha=self.l2)
            if self.l1:
                g = w.sign().mul_(self.l1) if g is None else g.add_(w.sign(), alpha=self.l1)
            w.grad = g

    # -- one step ---------------------------------------------------------------------------------------------

    def _forward_loss(self, x: Any, y: Any, *, penalty: bool = True) -> tuple[torch.Tensor, Any]:
        if self.uses_model_loss:
            loss, out = self.objective((x, y)), None
        else:
            out = self.forward_model(*x) if isinstance(x, tuple) else self.forward_model(x)
            loss = self.loss_fn(out, y)
        extra = self._penalty() if penalty else None
        return (loss + extra if extra is not None else loss), out

    def _train_step(self, x: Any, y: Any) -> tuple[torch.Tensor, Any]:
        """One optimizer step (see :mod:`lamina.train.steps`), then the scheduler if it steps per batch."""
        loss, out = self._step_fn(self, x, y)
        if self.scheduler is not None and self.schedule_interval == "step":
            self.scheduler.step()
        return loss.detach(), out

    def _shard_weight(self, x: Any, y: Any) -> float:
        n_local = len(y) if y is not None else len(x[0] if isinstance(x, tuple) else x)
        return n_local * self.world_size / self._loader.current_global_size

    def _weights_finite(self) -> bool:
        flags = [torch.isfinite(p).all() for p in self.model.parameters()]
        return bool(torch.stack(flags).all()) if flags else True  # one read of the device, not one per tensor

    def _check_finite(self, loss: torch.Tensor) -> None:
        """Stop on a non-finite batch loss. On the CPU at once, before the weights change. On an accelerator the
        test is queued (a device flag and the first bad value) and read by :meth:`_flush_finite` every
        ``FINITE_CHECK_EVERY`` steps and at the epoch's end: reading it each step would make the host wait for the
        device on every batch. A divergence found there restores the weights of the epoch's start if the steps
        since made them non-finite."""
        if not self._defer_finite:
            if not torch.isfinite(loss):
                self._diverged(loss)
            return
        bad = ~torch.isfinite(loss.detach())
        if self._nonfinite is None:
            self._nonfinite = (bad.clone(), loss.detach().float().clone())
        else:
            flag, value = self._nonfinite
            value.copy_(torch.where(bad & ~flag, loss.detach().float(), value))
            flag.logical_or_(bad)

    def _flush_finite(self) -> None:
        """Read the queued finiteness flag (see :meth:`_check_finite`) and stop if a loss since the last read was
        non-finite."""
        pending, self._nonfinite = self._nonfinite, None
        first, self._checked_step = self._checked_step + 1, self.step
        if pending is not None and bool(pending[0]):
            value = float(pending[1])
            self._diverged(
                value,
                where=f"the loss became {value} between steps {first} and {self.step} of epoch {self.epoch + 1}",
                step=self.step,
            )

    def _diverged(self, loss: torch.Tensor | float, *, where: str | None = None, step: int | None = None) -> None:
        """Stop with :class:`TrainingDivergedError`; non-finite weights are replaced by the epoch's first ones."""
        value = float(loss.detach()) if isinstance(loss, torch.Tensor) else float(loss)
        if self._weights_finite():
            kept = f"the weights after step {self.step} are kept"
        else:
            self.model.load_state_dict(self._last_good)
            kept = f"the weights were non-finite too; those from the end of epoch {self.epoch} are restored"
        self.stop_training = True
        where = where or f"the loss became {value} at epoch {self.epoch + 1}, step {self.step + 1}"
        self.stop_reason = where
        raise TrainingDivergedError(
            f"{where}; training stopped and {kept}. Try a lower learning rate, gradient clipping "
            "(train.grad_clip), or check the data for NaN/inf values.",
            epoch=self.epoch + 1,
            step=self.step + 1 if step is None else step,
            value=value,
        )

    def _check_epoch(self, logs: dict[str, float]) -> None:
        """Divergence seen only at the end of an epoch: a non-finite mean or validation loss, or weights that the
        last step made non-finite."""
        bad = _non_finite(logs)
        if bad is not None:
            name, value = bad
            self._diverged(value, where=f"{name} became {value} at the end of epoch {self.epoch + 1}", step=self.step)
        if not self._weights_finite():
            self._diverged(
                float("nan"), where=f"the weights became non-finite in epoch {self.epoch + 1}", step=self.step
            )

    def _step_epoch_scheduler(self, logs: dict[str, float]) -> None:
        if self.scheduler is None or self.schedule_interval != "epoch":
            return
        if isinstance(self.scheduler, _PLATEAU):
            monitor = self.schedule_monitor or ("val_loss" if "val_loss" in logs else "loss")
            if monitor not in logs:
                raise ValueError(f"the scheduler's monitor {monitor!r} is not logged; logged: {sorted(logs)}")
            self.scheduler.step(logs[monitor])
        else:
            self.scheduler.step()

    # -- epochs -----------------------------------------------------------------------------------------------

    def _train_epoch(self, loader: Iterable) -> dict[str, float]:
        self.model.train()
        loss_meter = Mean("loss")
        for m in self.metrics:
            m.reset()
        self._meters = [loss_meter, *self.metrics]
        resumed, self._pending_position = self._pending_position, None
        if resumed is not None:  # a mid-epoch checkpoint: redraw the epoch's order, skip the batches it had done
            self.rng.shuffle.set_state(resumed["shuffle"])
            for meter, state in zip(self._meters, resumed["meters"]):
                load_metric_state(meter, state, self.device)
        self._position = {"batch": 0, "shuffle": self.rng.shuffle.get_state()}
        self._nonfinite, self._checked_step = None, self.step
        batches = iter(loader)
        if resumed is not None:
            self._position["batch"] = resumed["batch"]
            batches = itertools.islice(batches, resumed["batch"], None)
        batch_callbacks = [cb for cb in self._hooks if type(cb).on_batch_end is not Callback.on_batch_end]
        for x, y in batches:
            loss, out = self._train_step(x, y)
            self.step += 1
            self._position["batch"] += 1
            n = len(x[0]) if isinstance(x, (tuple, list)) else len(x)  # y may be a tuple of targets (multi-task)
            loss_meter.add(loss, n)
            if self.metrics and out is not None:
                with torch.no_grad():
                    for m in self.metrics:
                        m.update(out, y)
            if self._nonfinite is not None and self.step - self._checked_step >= FINITE_CHECK_EVERY:
                self._flush_finite()
            for cb in batch_callbacks:
                cb.on_batch_end(self, self.step, loss)
            if self.stop_training:
                break
        self._flush_finite()
        self._position = None
        if self.world_size > 1:
            for meter in (loss_meter, *self.metrics):
                meter.total, meter.count = distributed.all_reduce_sum([meter.total, meter.count], self.device)
        logs = {"loss": loss_meter.compute()}
        self._epoch_loss = logs["loss"]
        logs.update({m.name: m.compute() for m in self.metrics})
        return logs

    def fit(self, train: Any, val: Any = None, *, epochs: int | None = None) -> History:
        """Train for ``epochs`` (default: the constructor's) epochs in total, continuing from :attr:`epoch`.

        Args:
            train: an :class:`~lamina.data.ArrayDataset` (batched in memory on the device) or any ``Dataset``
                of ``(x, y)`` pairs.
            val: evaluated after every epoch; its metrics are logged with a ``val_`` prefix.

        Returns:
            The :class:`History` of every epoch so far.

        Raises:
            TrainingDivergedError: the loss became NaN or infinite (the model keeps its last finite weights).
        """
        if self.optimizer is None:
            raise ValueError("this Trainer was made with optimizer=None (evaluation only); give it an optimizer to fit")
        epochs = epochs or self.epochs
        loader = make_loader(
            train,
            self.batch_size,
            shuffle=self.shuffle,
            generator=self.rng.shuffle,
            device=self.device,
            rank=self.rank,
            world_size=self.world_size,
            augment=True,  # the dataset's augment transforms, on training batches only
        )
        self._loader = loader
        self.constrained = constrained_weights(self.model)  # constraints applied since the trainer was made count
        if len(loader) == 0:
            raise ValueError(f"the training set is empty (batch size {self.batch_size}, {len(train)} examples)")
        self.epochs, self.steps_per_epoch = epochs, len(loader)
        if self.scheduler is None and self.schedule_spec is not None:
            self.scheduler = self.schedule_spec.build(self.optimizer, steps_per_epoch=len(loader), epochs=epochs)
            if self._pending_scheduler_state is not None:
                self._restore_scheduler(self._pending_scheduler_state)
        self.stop_training, self.stop_reason = False, ""
        self._hooks = [*self.callbacks, *self._printer()]
        with self.rng.active():
            for cb in self._hooks:
                cb.on_train_begin(self)
            if getattr(self, "_pending_callback_states", None):
                for cb, state in zip(self.callbacks, self._pending_callback_states):
                    cb.load_state_dict(state)
                self._pending_callback_states = None
            try:
                while self.epoch < epochs and not self.stop_training:
                    self._last_good = {k: v.detach().clone() for k, v in self.model.state_dict().items()}
                    for cb in self._hooks:
                        cb.on_epoch_begin(self, self.epoch)
                    start = time.perf_counter()
                    logs = self._train_epoch(loader)
                    logs.update(self._model_epoch_logs())
                    if val is not None:
                        logs.update({f"val_{k}": v for k, v in self.evaluate(val).items()})
                    self._check_epoch(logs)
                    logs["lr"] = self.optimizer.param_groups[0]["lr"]
                    logs["time"] = time.perf_counter() - start
                    self._step_epoch_scheduler(logs)
                    self.epoch += 1
                    self.history.append({"epoch": self.epoch, **logs})
                    for cb in self._hooks:
                        cb.on_epoch_end(self, self.epoch - 1, logs)
            finally:
                for cb in self._hooks:
                    cb.on_train_end(self)
                self._hooks = self.callbacks
        return self.history

    def _model_epoch_logs(self) -> dict[str, float]:
        """What the model names and adds to the epoch's logs: its ``training_loss`` mean under ``objective_name``
        (an RBM's ``free_energy_gap``; ``loss`` keeps it too, for monitors) and its own ``epoch_logs()``."""
        logs: dict[str, float] = {}
        name = getattr(self.model, "objective_name", None) if self.uses_model_loss else None
        if name:
            logs[name] = self._epoch_loss
        epoch_logs = getattr(self.model, "epoch_logs", None)
        if callable(epoch_logs):
            logs.update(epoch_logs())
        return logs

    def _printer(self) -> list[Callback]:
        """The progress printer :meth:`fit` adds (after the callbacks): none when ``verbose=0``, in a process other
        than rank 0, or when ``callbacks`` hold a printer already."""
        if not self.verbose or self.rank != 0 or any(isinstance(cb, ProgressPrinter) for cb in self.callbacks):
            return []
        return [ProgressPrinter(self.verbose, log_every=self.log_every)]

    # -- evaluation -------------------------------------------------------------------------------------------

    def evaluate(self, dataset: Any, *, batch_size: int | None = None) -> dict[str, float]:
        """The loss and metrics on ``dataset``, in evaluation mode (dropout off, batch-norm running stats)."""
        return evaluation.evaluate(self, dataset, batch_size=batch_size)

    def predict(self, data: Any, *, batch_size: int | None = None) -> torch.Tensor | tuple[torch.Tensor, ...]:
        """The model's outputs for a tensor of inputs or a dataset, concatenated over batches (on the CPU); a tuple
        of such tensors for a model with several outputs."""
        return evaluation.predict(self, data, batch_size=batch_size)

    # -- state ------------------------------------------------------------------------------------------------

    def state_dict(self) -> dict[str, Any]:
        """Everything needed to resume: weights, optimizer, scheduler, RNG streams, counters, history, callbacks."""
        return {
            "model": self.model.state_dict(),
            "optimizer": self.optimizer.state_dict(),
            "scheduler": self.scheduler.state_dict() if self.scheduler is not None else None,
            "scaler": self.scaler.state_dict() if self.scaler is not None else None,
            "rng": self.rng.state_dict(),
            "epoch": self.epoch,
            "step": self.step,
            "history": self.history.state_dict(),
            "callbacks": [cb.state_dict() for cb in self.callbacks],
            "position": self._position_state(),
        }

    def _position_state(self) -> dict[str, Any] | None:
        """Inside an epoch (a mid-epoch checkpoint): the batches done, the shuffling generator's state when the
        epoch drew its order, and the epoch's running loss and metric sums; ``None`` between epochs."""
        if self._position is None:
            return None
        return {**self._position, "meters": [metric_state(m) for m in self._meters]}

    def _restore_scheduler(self, state: dict[str, Any]) -> None:
        # Building a scheduler resets each group's rate to base * f(0); put back the rates it had reached.
        self.scheduler.load_state_dict(state)
        for group, lr, base in zip(self.optimizer.param_groups, state["_last_lr"], state["base_lrs"]):
            group["lr"], group["initial_lr"] = lr, base
        self._pending_scheduler_state = None

    def load_state_dict(self, state: dict[str, Any]) -> None:
        """Restore :meth:`state_dict`; the next :meth:`fit` continues where that run was."""
        self.model.load_state_dict(state["model"])
        self.optimizer.load_state_dict(state["optimizer"])
        self._pending_scheduler_state = state.get("scheduler")
        if self.scheduler is not None and state.get("scheduler") is not None:
            self._restore_scheduler(state["scheduler"])
        if self.scaler is not None and state.get("scaler") is not None:
            self.scaler.load_state_dict(state["scaler"])
        self.rng.load_state_dict(state["rng"])
        self.epoch, self.step = state["epoch"], state["step"]
        self.history = History(state["history"])
        self._pending_callback_states = state.get("callbacks") or None
        self._pending_position = state.get("position")
