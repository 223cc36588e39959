"""The training loop every method plugs into.

A model is trained either on ``loss(model(x), y)`` or, if it defines ``training_loss(batch)``, on that
(an RBM's CD/PCD surrogate, an autoencoder's reconstruction error). Optimizers that re-evaluate the loss
(L-BFGS, Hessian-free, EKF) get a :class:`~lamina.train.closure.Closure`. Callbacks observe; the trainer owns the
optimizer, scheduler, device, precision and randomness, and all of it is in :meth:`Trainer.state_dict`, so a run
resumed from a checkpoint continues bit for bit.

The hot path is a hand-written PyTorch loop plus a running loss sum kept on the device
(``benchmarks/trainer_overhead.py`` measures the difference).

This module holds the :class:`Trainer` class and its ``fit`` loop; the parts it is made of live beside it, one concept
each: :mod:`~lamina.train.arguments` (the arguments checked and built into metrics, optimizer and schedule),
:mod:`~lamina.train.epoch` (one training epoch), :mod:`~lamina.train.steps` (one optimizer step),
:mod:`~lamina.train.penalty` (the L1/L2 weight penalty), :mod:`~lamina.train.divergence` (the finite-loss checks),
:mod:`~lamina.train.trainer_state` (``state_dict``/``load_state_dict`` for resuming) and
:mod:`~lamina.train.evaluation` (``evaluate``/``predict``).
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

import torch
from torch import nn

from lamina.data.loader import make_loader
from lamina.nn.max_norm import constrained_weights
from lamina.nn.targets_context import batch_targets
from lamina.registry import resolve
from lamina.train import distributed, evaluation
from lamina.train.arguments import PLATEAU, build_metrics, build_optimizer, check_arguments, resolve_schedule
from lamina.train.callbacks.base import Callback
from lamina.train.callbacks.progress import ProgressPrinter
from lamina.train.divergence import FINITE_CHECK_EVERY, DivergenceChecks
from lamina.train.epoch import model_epoch_logs, train_epoch
from lamina.train.history import History
from lamina.train.penalty import add_penalty_gradient, penalty
from lamina.train.rng import RngStreams, resolve_device
from lamina.train.steps import check_grad_clip, choose_step
from lamina.train.trainer_state import ResumableState

__all__ = ["FINITE_CHECK_EVERY", "Trainer"]


class Trainer(DivergenceChecks, ResumableState):
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

    # the run folder when lamina.train() drives this trainer (None otherwise): callbacks may write records there
    run_dir: Path | None = None
    _epoch_loss: float  # the last epoch's mean loss (set by train_epoch), logged under the model's objective_name

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
        check_arguments(
            verbose=verbose,
            epochs=epochs,
            batch_size=batch_size,
            grad_clip=grad_clip,
            l1=l1,
            l2=l2,
            precision=precision,
        )
        self.device = resolve_device(device)
        self.model = model.to(self.device)
        self.uses_model_loss = hasattr(model, "training_loss")
        self.loss_spec = None if self.uses_model_loss or callable(loss) else resolve("loss", loss, path="train.loss")
        self.loss_fn = None if self.uses_model_loss else (loss if callable(loss) else self.loss_spec.build())
        self.metrics = build_metrics(metrics, loss_spec=self.loss_spec, uses_model_loss=self.uses_model_loss)
        self.optimizer, self.needs_closure = build_optimizer(optimizer, self.model)
        if self.needs_closure:
            check_grad_clip(self.optimizer, grad_clip)
        self.schedule_spec, self.scheduler, self.schedule_interval, self.schedule_monitor = resolve_schedule(
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
        """Wrap the model for distributed data-parallel training (:func:`lamina.train.distributed.distribute`)."""
        distributed.distribute(self)

    def _autocast(self) -> contextlib.AbstractContextManager:
        if self.precision == "fp32":
            return contextlib.nullcontext()
        dtype = torch.bfloat16 if self.precision == "bf16" else torch.float16
        return torch.autocast(self.device.type, dtype=dtype)

    def _penalty(self) -> torch.Tensor | None:
        """The weight penalty of the model's weights (:func:`lamina.train.penalty.penalty`), or ``None``."""
        return penalty(self.model, self.l1, self.l2, self.device)

    def _add_penalty_gradient(self) -> None:
        """Add the penalty's gradient to the weights' (:func:`lamina.train.penalty.add_penalty_gradient`)."""
        add_penalty_gradient(self.model, self.l1, self.l2)

    # -- one step ---------------------------------------------------------------------------------------------

    def _forward_loss(self, x: Any, y: Any, *, penalty: bool = True) -> tuple[torch.Tensor, Any]:
        if self.uses_model_loss:
            loss, out = self.objective((x, y)), None
        else:
            with batch_targets(y):  # for layers that read the label in training (cDNI)
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

    def _step_epoch_scheduler(self, logs: dict[str, float]) -> None:
        if self.scheduler is None or self.schedule_interval != "epoch":
            return
        if isinstance(self.scheduler, PLATEAU):
            monitor = self.schedule_monitor or ("val_loss" if "val_loss" in logs else "loss")
            if monitor not in logs:
                raise ValueError(f"the scheduler's monitor {monitor!r} is not logged; logged: {sorted(logs)}")
            self.scheduler.step(logs[monitor])
        else:
            self.scheduler.step()

    # -- epochs -----------------------------------------------------------------------------------------------

    def _train_epoch(self, loader: Iterable) -> dict[str, float]:
        """One pass over ``loader`` (:func:`lamina.train.epoch.train_epoch`): the epoch's mean loss and metrics."""
        return train_epoch(self, loader)

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
                    logs.update(model_epoch_logs(self))
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
