"""One training epoch of a :class:`~lamina.train.trainer.Trainer` and what the model adds to its logs: its batches
through the trainer's step function, the running loss and metric sums kept on the device, the position inside the
epoch (which a mid-epoch checkpoint saves and a resumed run skips to), the queued finite-loss check read every
:data:`~lamina.train.divergence.FINITE_CHECK_EVERY` steps, and the batch callbacks."""

from __future__ import annotations

import itertools
from collections.abc import Iterable
from typing import TYPE_CHECKING

import torch

from lamina.metrics.standard import Mean, load_metric_state
from lamina.nn.synthetic_gradient import synthetic_gradient_logs
from lamina.train import distributed
from lamina.train.callbacks.base import Callback
from lamina.train.divergence import FINITE_CHECK_EVERY

if TYPE_CHECKING:
    from lamina.train.trainer import Trainer

__all__ = ["model_epoch_logs", "train_epoch"]


def train_epoch(trainer: Trainer, loader: Iterable) -> dict[str, float]:
    """One pass of ``trainer`` over ``loader`` (the rest of it, after a mid-epoch checkpoint), stopping early when a
    callback sets ``stop_training``; returns the epoch's mean ``loss`` and its metrics."""
    trainer.model.train()
    loss_meter = Mean("loss")
    for m in trainer.metrics:
        m.reset()
    trainer._meters = [loss_meter, *trainer.metrics]
    resumed, trainer._pending_position = trainer._pending_position, None
    if resumed is not None:  # a mid-epoch checkpoint: redraw the epoch's order, skip the batches it had done
        trainer.rng.shuffle.set_state(resumed["shuffle"])
        for meter, state in zip(trainer._meters, resumed["meters"]):
            load_metric_state(meter, state, trainer.device)
    trainer._position = {"batch": 0, "shuffle": trainer.rng.shuffle.get_state()}
    trainer._nonfinite, trainer._checked_step = None, trainer.step
    batches = iter(loader)
    if resumed is not None:
        trainer._position["batch"] = resumed["batch"]
        batches = itertools.islice(batches, resumed["batch"], None)
    batch_callbacks = [cb for cb in trainer._hooks if type(cb).on_batch_end is not Callback.on_batch_end]
    for x, y in batches:
        loss, out = trainer._train_step(x, y)
        trainer.step += 1
        trainer._position["batch"] += 1
        n = len(x[0]) if isinstance(x, (tuple, list)) else len(x)  # y may be a tuple of targets (multi-task)
        loss_meter.add(loss, n)
        if trainer.metrics and out is not None:
            with torch.no_grad():
                for m in trainer.metrics:
                    m.update(out, y)
        if trainer._nonfinite is not None and trainer.step - trainer._checked_step >= FINITE_CHECK_EVERY:
            trainer._flush_finite()
        for cb in batch_callbacks:
            cb.on_batch_end(trainer, trainer.step, loss)
        if trainer.stop_training:
            break
    trainer._flush_finite()
    trainer._position = None
    if trainer.world_size > 1:
        for meter in (loss_meter, *trainer.metrics):
            meter.total, meter.count = distributed.all_reduce_sum([meter.total, meter.count], trainer.device)
    logs = {"loss": loss_meter.compute()}
    trainer._epoch_loss = logs["loss"]
    logs.update({m.name: m.compute() for m in trainer.metrics})
    return logs


def model_epoch_logs(trainer: Trainer) -> dict[str, float]:
    """What the model names and adds to the epoch's logs: its ``training_loss`` mean under ``objective_name``
    (an RBM's ``free_energy_gap``; ``loss`` keeps it too, for monitors), its own ``epoch_logs()`` and the
    synthetic-gradient predictors' regression losses (``dni_loss``;
    :func:`~lamina.nn.synthetic_gradient.synthetic_gradient_logs`)."""
    logs: dict[str, float] = {}
    name = getattr(trainer.model, "objective_name", None) if trainer.uses_model_loss else None
    if name:
        logs[name] = trainer._epoch_loss
    epoch_logs = getattr(trainer.model, "epoch_logs", None)
    if callable(epoch_logs):
        logs.update(epoch_logs())
    logs.update(synthetic_gradient_logs(trainer.model))
    return logs
