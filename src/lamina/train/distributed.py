"""Distributed data-parallel training on ``torch.distributed`` (launched by ``torchrun``), nothing home-made.

Every process holds the whole (in-memory) dataset and draws the same global batches; each keeps its shard, and
``DistributedDataParallel`` averages the gradients. Losses are weighted by shard size so that the averaged gradient
equals the one-process gradient of the global batch, so N processes and one process reach the same weights (to
float tolerance, without dropout). Models trained on their own ``training_loss`` (RBMs, autoencoders) are wrapped so
DDP sees that objective as the module's forward.
"""

from __future__ import annotations

import datetime
import os
from typing import TYPE_CHECKING, Any

import torch
from torch import nn

from lamina.errors import ConfigError

if TYPE_CHECKING:
    from lamina.train.trainer import Trainer

__all__ = [
    "world",
    "init_from_env",
    "is_main",
    "Objective",
    "wrap",
    "all_reduce_sum",
    "barrier",
    "broadcast_object",
    "distribute",
]


def world() -> tuple[int, int]:
    """``(rank, world_size)``: ``(0, 1)`` unless a process group is initialised."""
    if torch.distributed.is_available() and torch.distributed.is_initialized():
        return torch.distributed.get_rank(), torch.distributed.get_world_size()
    return 0, 1


def is_main() -> bool:
    """Whether this process writes files (rank 0, or the only process)."""
    return world()[0] == 0


def init_from_env() -> bool:
    """Join the process group ``torchrun`` describes in the environment (``WORLD_SIZE`` > 1); ``True`` if this call
    initialised it. NCCL on CUDA, gloo otherwise."""
    if int(os.environ.get("WORLD_SIZE", "1")) <= 1 or not torch.distributed.is_available():
        return False
    if torch.distributed.is_initialized():
        return False
    if torch.cuda.is_available():
        torch.cuda.set_device(int(os.environ.get("LOCAL_RANK", "0")))
    backend = "nccl" if torch.cuda.is_available() else "gloo"
    torch.distributed.init_process_group(backend, timeout=datetime.timedelta(minutes=30))
    return True


class Objective(nn.Module):
    """``forward(x, y) = model.training_loss((x, y))``: a model's own objective as a forward, for DDP."""

    def __init__(self, model: nn.Module) -> None:
        super().__init__()
        self.model = model

    def forward(self, x: Any, y: Any) -> torch.Tensor:
        return self.model.training_loss((x, y))


def wrap(module: nn.Module, device: torch.device) -> nn.Module:
    """``DistributedDataParallel(module)`` on ``device``."""
    from torch.nn.parallel import DistributedDataParallel

    ids = [device.index if device.index is not None else torch.cuda.current_device()] if device.type == "cuda" else None
    return DistributedDataParallel(module, device_ids=ids)


def all_reduce_sum(values: list[Any], device: torch.device) -> list[float]:
    """Sum scalars (floats or 0-d tensors) over all processes."""
    packed = torch.tensor([float(v) for v in values], dtype=torch.float64, device=device)
    torch.distributed.all_reduce(packed)
    return packed.tolist()


def barrier() -> None:
    """Wait for every process (no-op outside distributed runs)."""
    if world()[1] > 1:
        torch.distributed.barrier()


def broadcast_object(obj: Any) -> Any:
    """Rank 0's ``obj`` on every process."""
    if world()[1] == 1:
        return obj
    holder = [obj]
    torch.distributed.broadcast_object_list(holder, src=0)
    return holder[0]


def distribute(trainer: Trainer) -> None:
    """Set ``trainer`` up for data-parallel training: its model (or its ``training_loss`` objective) wrapped in
    ``DistributedDataParallel``; refused for closure optimizers and for a batch smaller than the process count."""
    if trainer.needs_closure:
        raise ConfigError(
            f"train.optimizer: {type(trainer.optimizer).__name__} re-evaluates the loss through a "
            "closure, which distributed data-parallel training cannot synchronise; run it in one "
            "process (plain `lamina train`)"
        )
    if trainer.batch_size < trainer.world_size:
        raise ConfigError(
            f"train.batch_size: {trainer.batch_size} cannot be sharded over {trainer.world_size} processes; "
            f"the global batch needs at least one example per process"
        )
    if trainer.uses_model_loss:
        wrapped = wrap(Objective(trainer.model), trainer.device)
        trainer.objective = lambda batch: wrapped(*batch)
    else:
        trainer.forward_model = wrap(trainer.forward_model, trainer.device)
