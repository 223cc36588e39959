"""Hogwild!: lock-free asynchronous SGD over parameters in shared memory (Recht, Ré, Wright & Niu, NIPS 2011).

:class:`HogwildTrainer` is a :class:`~lamina.train.trainer.Trainer` whose epoch is run by ``workers`` processes
(``torch.multiprocessing``, the ``spawn`` start method unless
``start_method`` says otherwise) instead of the parent: the model's parameters are moved to
shared memory (``model.share_memory()``) and every worker runs plain SGD steps on its own shard of the epoch's
examples, reading and writing the shared weights without any lock, as in the paper (and in PyTorch's
``mnist_hogwild`` example). Everything between epochs stays the parent's: validation, the epoch's log line,
callbacks, early stopping, epoch-interval schedules and checkpoints, so ``lamina.train`` resumes a Hogwild run like
any other at an epoch boundary.

What is decided here, once:

* **Data order.** The parent draws each epoch's permutation from the trainer's shuffling generator (as the plain
  trainer's loader does) and splits it into ``workers`` contiguous shards (``tensor_split``); worker ``k`` takes its
  shard's batches in order. One worker therefore sees exactly the plain trainer's batches, and reaches the same
  weights bit for bit (tested); with several, every example is used once per epoch (tested).
* **Seeds.** Worker ``k`` seeds its global generator (dropout, sampling) with ``seed + 1_000_003 * epoch + k`` at
  every epoch, so a run is repeatable up to the order in which the workers' writes interleave (which Hogwild
  leaves to the scheduler by design).
* **Optimizers.** Only ``torch.optim.SGD`` (plain, momentum, Nesterov, weight decay): the paper's lock-free SGD.
  Each worker keeps its own momentum buffers (returned to the parent after each epoch, so checkpoints hold them);
  learning rates are the parent's optimizer's at the start of each epoch. Closure optimizers (L-BFGS, Hessian-free,
  EKF) and adaptive ones (Adam, ...) are refused with a ``ConfigError``.
* **Device.** CPU only (shared memory between processes): ``device = "auto"`` means the CPU here and a CUDA or MPS
  device is refused. Not combined with ``torchrun`` either.
* **Logs.** An epoch logs the workers' mean training loss, its optimizer steps (the sum over workers) and what the
  parent evaluates on the validation set after the epoch; training-set metrics other than the loss are not
  computed. Checkpoints are written at epoch boundaries only (no mid-epoch checkpoint). Callbacks run their epoch
  hooks in the parent; their ``on_batch_end`` is never called (a warning names those that define one, such as a
  per-step momentum ramp).
* **Not supported** (refused): ``grad_clip``, ``l1``/``l2`` (use SGD's ``weight_decay``), ``precision`` other than
  fp32, ``compile``, max-norm constraints, step-interval schedules.
"""

from __future__ import annotations

import contextlib
import pickle
import queue
import traceback
import warnings
from collections.abc import Iterable
from typing import Annotated, Any

import torch
import torch.multiprocessing as mp

from lamina.config.component import Bounds, Choices, spec_base, validated
from lamina.config.spec import Spec
from lamina.errors import ConfigError
from lamina.train.callbacks import Callback, Checkpointer, MetricsLog, ProgressPrinter, TensorBoard
from lamina.train.trainer import Trainer

__all__ = ["HogwildOptions", "HogwildSpec", "HogwildTrainer", "worker_index"]

_SEED_STRIDE = 1_000_003  # worker seeds of consecutive epochs never collide for fewer workers than this
_WORKER: int | None = None  # the worker's index inside a worker process


def worker_index() -> int | None:
    """The index of the Hogwild worker this code runs in (``0 .. workers - 1``), ``None`` outside the workers."""
    return _WORKER


class HogwildOptions:
    """The settings of a Hogwild run: how many worker processes and how many torch threads each uses.

    Args:
        workers: processes that train the shared parameters at the same time (1 reproduces plain SGD).
        threads_per_worker: ``torch.set_num_threads`` in each worker; keep ``workers * threads_per_worker`` at or
            below the machine's cores.
        start_method: how the workers are started: ``spawn`` (the default: a fresh interpreter, safe everywhere,
            about a second or more per worker to import torch), ``fork`` (at once, Linux/macOS; PyTorch's own
            ``mnist_hogwild`` example relies on it) or ``forkserver``.
    """

    @validated
    def __init__(
        self,
        workers: Annotated[int, Bounds(ge=1)] = 2,
        threads_per_worker: Annotated[int, Bounds(ge=1)] = 1,
        start_method: Annotated[str, Choices("spawn", "fork", "forkserver")] = "spawn",
    ) -> None:
        self.workers, self.threads_per_worker, self.start_method = workers, threads_per_worker, start_method


class HogwildSpec(spec_base(HogwildOptions, Spec)):  # type: ignore[misc]
    """The ``[train] hogwild = { workers = 2, threads_per_worker = 1 }`` table: train with :class:`HogwildTrainer`
    (Recht et al., 2011); the keys are :class:`HogwildOptions`' arguments, with its defaults and bounds."""

    def build(self) -> HogwildOptions:
        """The :class:`HogwildOptions` these keys describe."""
        return HogwildOptions(**self.options())


# -- the worker process -----------------------------------------------------------------------------------------


def _select(targets: Any, index: torch.Tensor) -> Any:
    if targets is None:
        return None
    if isinstance(targets, tuple):
        return tuple(t.index_select(0, index) for t in targets)
    return targets.index_select(0, index)


def _worker(
    rank: int,
    model: torch.nn.Module,
    loss_fn: Any,
    data: tuple,
    batch_size: int,
    threads: int,
    tasks: Any,
    results: Any,
) -> None:
    """Worker ``rank``'s loop: for each task ``(epoch_seed, shard, groups, optimizer_state)`` run SGD over the
    shard's batches on the shared ``model`` and report ``(rank, loss_sum, count, steps, optimizer_state, error)``;
    ``None`` ends it."""
    global _WORKER
    _WORKER = rank
    torch.set_num_threads(threads)
    inputs, targets = data
    optimizer: torch.optim.SGD | None = None
    while (task := tasks.get()) is not None:
        seed, shard, groups, state = task
        try:
            if optimizer is None:
                optimizer = torch.optim.SGD(_groups_of(model, groups))
            if state is not None:
                optimizer.load_state_dict(state)
            for group, settings in zip(optimizer.param_groups, groups):
                group.update(_settings(settings))
            if seed is not None:
                torch.manual_seed(seed)
            model.train()
            total, count, steps = 0.0, 0, 0
            for i in range(0, len(shard), batch_size):
                idx = shard[i : i + batch_size]
                xs = tuple(t.index_select(0, idx) for t in inputs)
                x, y = (xs[0] if len(xs) == 1 else xs), _select(targets, idx)
                optimizer.zero_grad(set_to_none=True)
                if loss_fn is None:
                    loss = model.training_loss((x, y))  # type: ignore[operator]
                else:
                    loss = loss_fn(model(*x) if isinstance(x, tuple) else model(x), y)
                loss.backward()
                optimizer.step()
                total += float(loss.detach()) * len(idx)
                count, steps = count + len(idx), steps + 1
            results.put((rank, total, count, steps, optimizer.state_dict(), None))
        except BaseException:  # noqa: BLE001  (reported to the parent, which raises it)
            results.put((rank, 0.0, 0, 0, None, traceback.format_exc()))


def _groups_of(model: torch.nn.Module, groups: list[dict]) -> list[dict]:
    """The model's parameters in the parent optimizer's groups (the parent sends each group's settings and
    its parameters' indices in ``model.parameters()``)."""
    params = list(model.parameters())
    return [{**_settings(g), "params": [params[i] for i in g["index"]]} for g in groups]


def _settings(group: dict) -> dict:
    """An optimizer group's hyper-parameters (without its parameters or their indices)."""
    return {k: v for k, v in group.items() if k not in ("params", "index")}


# -- the parent's trainer ---------------------------------------------------------------------------------------


class HogwildTrainer(Trainer):
    """A :class:`~lamina.train.trainer.Trainer` whose epochs run as Hogwild! (Recht et al., 2011): ``workers``
    processes do lock-free SGD on the model's parameters in shared memory, each on its shard of the epoch.

    Args:
        model: the network (moved to shared memory by :meth:`fit`).
        hogwild: a :class:`HogwildOptions`, or its keys as a dict (``{"workers": 2}``); default 2 workers.
        **kwargs: the :class:`~lamina.train.trainer.Trainer`'s arguments. The optimizer must be SGD (a name,
            table or ``torch.optim.SGD``); see the module's text for what is refused and why.

    Example:
        >>> trainer = HogwildTrainer(model, hogwild={"workers": 2}, optimizer={"type": "sgd", "lr": 0.05}, epochs=3)
        >>> trainer.fit(train, val)
    """

    def __init__(self, model: torch.nn.Module, *, hogwild: HogwildOptions | dict | None = None, **kwargs: Any) -> None:
        device = kwargs.get("device", "auto")
        if str(device) != "auto" and torch.device(device).type != "cpu":
            raise ConfigError(
                f"train.device: Hogwild shares the parameters between CPU processes; got {str(device)!r}, "
                "expected 'cpu' (or 'auto')"
            )
        kwargs["device"] = "cpu"
        self.hogwild = hogwild if isinstance(hogwild, HogwildOptions) else HogwildOptions(**(hogwild or {}))
        super().__init__(model, **kwargs)
        self._check_supported()
        self._pool: list[Any] = []
        self._tasks: list[Any] = []
        self._results: Any = None
        self._worker_states: list[dict | None] = [None] * self.hogwild.workers
        self._send_states = False

    def _check_supported(self) -> None:
        refused = [
            (self.needs_closure, "train.optimizer", "a closure optimizer cannot run lock-free; use sgd"),
            (
                type(self.optimizer) is not torch.optim.SGD,
                "train.optimizer",
                f"Hogwild runs lock-free SGD (Recht et al. 2011); got {type(self.optimizer).__name__}, expected sgd",
            ),
            (self.world_size > 1, "train", "Hogwild cannot run under torchrun; start one process"),
            (bool(self.grad_clip), "train.grad_clip", "not supported by Hogwild workers"),
            (bool(self.l1 or self.l2), "train.l1/l2", "not supported by Hogwild workers; use sgd's weight_decay"),
            (self.precision != "fp32", "train.precision", "Hogwild workers train in fp32"),
            (self.forward_model is not self.model, "train.compile", "not supported by Hogwild workers"),
            (bool(self.constrained), "model", "max-norm constraints are not supported by Hogwild workers"),
            (self.schedule_spec is not None or (self.scheduler is not None and self.schedule_interval == "step"),
             "train.schedule",
             "the workers cannot step a schedule; give a torch LRScheduler stepped per epoch"),
        ]  # fmt: skip
        for bad, where, why in refused:
            if bad:
                raise ConfigError(f"{where}: {why}")

    # -- the pool of workers ----------------------------------------------------------------------------------

    def _warn_batch_callbacks(self) -> None:
        """The workers run the batches, so no callback's ``on_batch_end`` is called: warn about those that rely on
        it (the run folder's own writers only lose their per-step lines and mid-epoch checkpoints)."""
        own = (Checkpointer, MetricsLog, ProgressPrinter, TensorBoard)
        skipped = [
            type(cb).__name__
            for cb in self._hooks
            if type(cb).on_batch_end is not Callback.on_batch_end and not isinstance(cb, own)
        ]
        if skipped:
            warnings.warn(
                f"train.callbacks: Hogwild workers run the batches, so on_batch_end of {', '.join(skipped)} is never "
                "called; only their epoch hooks run",
                stacklevel=3,
            )

    def _start(self, loader: Any) -> None:
        dataset: Any = getattr(loader, "dataset", None)
        if not hasattr(dataset, "inputs"):
            raise ConfigError("Hogwild trains on an in-memory ArrayDataset (the workers index its shared tensors)")
        if getattr(dataset, "transform", None) is not None:
            raise ConfigError("data.augment: the Hogwild workers do not apply training transforms")
        self.model.share_memory()
        inputs = tuple(t.share_memory_() for t in dataset.inputs)
        targets = dataset.targets
        if isinstance(targets, tuple):
            targets = tuple(t.share_memory_() for t in targets)
        elif targets is not None:
            targets = targets.share_memory_()
        context: Any = mp.get_context(self.hogwild.start_method)
        self._results = context.Queue()
        loss_fn = None if self.uses_model_loss else self.loss_fn
        for rank in range(self.hogwild.workers):
            tasks = context.SimpleQueue()
            args = (rank, self.model, loss_fn, (inputs, targets), self.batch_size, self.hogwild.threads_per_worker)
            process = context.Process(target=_worker, args=(*args, tasks, self._results), daemon=True)
            try:
                process.start()
            except (pickle.PicklingError, AttributeError, TypeError) as err:
                self._stop()
                raise ConfigError(
                    f"Hogwild: the model and loss must be picklable to reach the worker processes ({err})"
                ) from err
            self._pool.append(process)
            self._tasks.append(tasks)
        self._send_states = True

    def _stop(self) -> None:
        for tasks, process in zip(self._tasks, self._pool):
            if process.is_alive():
                with contextlib.suppress(OSError, ValueError):
                    tasks.put(None)
        for process in self._pool:
            process.join(timeout=10)
            if process.is_alive():
                process.kill()
                process.join()
        self._pool, self._tasks = [], []

    def fit(self, train: Any, val: Any = None, *, epochs: int | None = None) -> Any:
        """:meth:`Trainer.fit <lamina.train.trainer.Trainer.fit>`, each epoch run by the Hogwild workers, which
        are started on the first epoch and stopped when it returns."""
        try:
            return super().fit(train, val, epochs=epochs)
        finally:
            self._stop()

    def _train_epoch(self, loader: Iterable) -> dict[str, float]:
        """One epoch: the permutation (from the trainer's shuffling generator) split into one shard per worker,
        the workers' SGD steps on the shared weights, and their mean loss."""
        if not self._pool:
            self._warn_batch_callbacks()
            self._start(loader)
        self.model.train()
        n = len(loader.dataset)  # type: ignore[attr-defined]
        order = torch.randperm(n, generator=self.rng.shuffle) if self.shuffle else torch.arange(n)
        where = {id(p): i for i, p in enumerate(self.model.parameters())}
        groups = [{**_settings(g), "index": [where[id(p)] for p in g["params"]]} for g in self.optimizer.param_groups]
        seed = None if self.rng.seed is None else self.rng.seed + _SEED_STRIDE * self.epoch
        for rank, (tasks, shard) in enumerate(zip(self._tasks, order.tensor_split(self.hogwild.workers))):
            state = self._worker_states[rank] if self._send_states else None
            tasks.put((None if seed is None else seed + rank, shard, groups, state))
        self._send_states = False
        total, count, steps, errors = 0.0, 0, 0, []
        for _ in self._pool:
            rank, part, seen, done, state, error = self._receive()
            if error is not None:
                errors.append(f"worker {rank}:\n{error}")
                continue
            total, count, steps = total + part, count + seen, steps + done
            self._worker_states[rank] = state
        if errors:
            raise RuntimeError("a Hogwild worker failed:\n" + "\n".join(errors))
        self.step += steps
        self._epoch_loss = total / max(count, 1)
        return {"loss": self._epoch_loss, "steps": float(steps)}

    def _receive(self) -> tuple:
        while True:
            try:
                return self._results.get(timeout=5)
            except queue.Empty:
                dead = [p for p in self._pool if not p.is_alive()]
                if dead:
                    codes = ", ".join(f"exit code {p.exitcode}" for p in dead)
                    raise RuntimeError(f"a Hogwild worker process died ({codes})") from None

    # -- resuming ---------------------------------------------------------------------------------------------

    def state_dict(self) -> dict[str, Any]:
        """The trainer's :meth:`~lamina.train.trainer.Trainer.state_dict` plus each worker's SGD state (its
        momentum buffers), taken at an epoch boundary."""
        return {**super().state_dict(), "hogwild_workers": list(self._worker_states)}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        """Restore :meth:`state_dict`; the workers get their momentum buffers back on the next epoch."""
        super().load_state_dict(state)
        saved = state.get("hogwild_workers")
        if saved is not None and len(saved) != self.hogwild.workers:
            raise ConfigError(
                f"train.hogwild.workers: the checkpoint holds {len(saved)} workers' SGD states, this run has "
                f"{self.hogwild.workers}; resume with the same number of workers"
            )
        self._worker_states = list(saved) if saved is not None else [None] * self.hogwild.workers
        self._send_states = True
