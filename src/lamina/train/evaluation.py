"""Evaluation and prediction of a :class:`~lamina.train.trainer.Trainer`'s model: batched, in evaluation mode,
under the trainer's device and precision, with the model's mode restored afterwards."""

from __future__ import annotations

import copy
from typing import TYPE_CHECKING, Any

import torch

from lamina.data.dataset import ArrayDataset
from lamina.data.loader import make_loader
from lamina.metrics.standard import Mean

if TYPE_CHECKING:
    from lamina.train.trainer import Trainer

__all__ = ["evaluate", "predict"]


@torch.no_grad()
def evaluate(trainer: Trainer, dataset: Any, *, batch_size: int | None = None) -> dict[str, float]:
    """The loss and metrics on ``dataset``, in evaluation mode (dropout off, batch-norm running stats)."""
    was_training = trainer.model.training
    trainer.model.eval()
    loss_meter = Mean("loss")
    metrics = [copy.copy(m) for m in trainer.metrics]
    for m in metrics:
        m.reset()
    custom = getattr(trainer.model, "validation_metrics", None)
    sums: dict[str, float] = {}
    count = 0
    try:
        for x, y in make_loader(dataset, batch_size or trainer.eval_batch_size, device=trainer.device):
            n = len(x[0]) if isinstance(x, (tuple, list)) else len(x)
            with trainer._autocast():
                if custom is not None:
                    for k, v in custom((x, y)).items():
                        sums[k] = sums.get(k, 0.0) + v.detach() * n
                    count += n
                    continue
                loss, out = trainer._forward_loss(x, y)
            loss_meter.add(loss.float(), n)
            if out is not None:
                out = out.float() if isinstance(out, torch.Tensor) else tuple(o.float() for o in out)
                for m in metrics:
                    m.update(out, y)
    finally:
        trainer.model.train(was_training)
    if custom is not None:
        return {k: float(v) / max(count, 1) for k, v in sums.items()}
    return {"loss": loss_meter.compute(), **{m.name: m.compute() for m in metrics}}


@torch.no_grad()
def predict(trainer: Trainer, data: Any, *, batch_size: int | None = None) -> torch.Tensor | tuple[torch.Tensor, ...]:
    """The model's outputs for a tensor of inputs or a dataset, concatenated over batches (on the CPU); a tuple
    of such tensors for a model with several outputs."""
    dataset = ArrayDataset(data) if isinstance(data, torch.Tensor) else data
    was_training = trainer.model.training
    trainer.model.eval()
    try:
        outs = []
        for x, _ in make_loader(dataset, batch_size or trainer.eval_batch_size, device=trainer.device):
            with trainer._autocast():
                out = trainer.forward_model(*x) if isinstance(x, tuple) else trainer.forward_model(x)
            outs.append(out.float().cpu() if isinstance(out, torch.Tensor) else tuple(o.float().cpu() for o in out))
        if isinstance(outs[0], tuple):
            return tuple(torch.cat(parts) for parts in zip(*outs))
        return torch.cat(outs)
    finally:
        trainer.model.train(was_training)
