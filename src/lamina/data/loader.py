"""Batches for the trainer. Data that fits in memory (:class:`~lamina.data.ArrayDataset`) is moved to the
training device once and batched by index, with no ``DataLoader`` workers, collation or host-to-device copies;
any other ``torch.utils.data.Dataset`` streams through a ``DataLoader``.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import torch
from torch.utils.data import DataLoader, Dataset

from lamina.data.bucketing import BucketingSpec, bucket_batches
from lamina.data.dataset import ArrayDataset
from lamina.errors import ConfigError
from lamina.nn.sequence_lengths import lengths_from_padding

__all__ = ["BatchLoader", "BucketLoader", "make_loader", "Batch"]

Batch = tuple[Any, Any]  # (inputs: Tensor | tuple[Tensor, ...], targets: Tensor | None)


class BatchLoader:
    """Iterate over an :class:`ArrayDataset` in batches of ``batch_size``, reshuffled each epoch.

    Args:
        dataset: the examples (moved to ``device`` once, at construction).
        batch_size: examples per batch.
        shuffle: draw a new permutation (from ``generator``) at each ``iter()``.
        generator: the source of the permutations; its state is the loader's state for resuming.
        drop_last: skip a final batch smaller than ``batch_size``.
        device: where the tensors live.
        augment: apply the dataset's ``transform`` (its ``augment`` option) to each batch's inputs: the trainer's
            training loader does; evaluation never does.
        rank, world_size: in distributed training every process draws the same global batches (the generator is
            seeded alike) and keeps its own contiguous shard of each; ``current_global_size`` is the size of the
            global batch the last shard came from, so losses can be weighted to equal the one-process mean.

    Yields:
        ``(x, y)`` with ``x`` a tensor (a tuple of tensors for several inputs) and ``y`` the targets (a tuple for
        several) or ``None``.
    """

    def __init__(
        self,
        dataset: ArrayDataset,
        batch_size: int,
        *,
        shuffle: bool = False,
        generator: torch.Generator | None = None,
        drop_last: bool = False,
        device: torch.device | str | None = None,
        rank: int = 0,
        world_size: int = 1,
        augment: bool = False,
    ) -> None:
        if batch_size < 1:
            raise ValueError(f"`batch_size` must be a positive integer, got {batch_size!r}")
        if not 0 <= rank < world_size:
            raise ValueError(f"`rank` must be in [0, world_size), got rank={rank}, world_size={world_size}")
        self.dataset = dataset.to(device) if device is not None else dataset
        self.batch_size = batch_size
        self.shuffle = shuffle
        self.generator = generator
        self.drop_last = drop_last
        self.rank, self.world_size = rank, world_size
        self.current_global_size = 0
        self.transform = dataset.transform if augment else None

    def __len__(self) -> int:
        n = len(self.dataset)
        return n // self.batch_size if self.drop_last else -(-n // self.batch_size)

    def __iter__(self) -> Iterator[Batch]:
        if self.transform is None:
            yield from self._batches()
            return
        for x, y in self._batches():
            yield self.transform(x), y

    def _batches(self) -> Iterator[Batch]:
        inputs, targets = self.dataset.inputs, self.dataset.targets
        n, bs = len(self.dataset), self.batch_size
        stop = n - n % bs if self.drop_last else n
        if self.shuffle or self.world_size > 1:
            perm = torch.randperm(n, generator=self.generator) if self.shuffle else torch.arange(n)
            perm = perm.to(inputs[0].device)
            for i in range(0, stop, bs):
                idx = perm[i : i + bs]
                self.current_global_size = len(idx)
                if self.world_size > 1:
                    idx = idx.tensor_split(self.world_size)[self.rank]
                xs = tuple(t.index_select(0, idx) for t in inputs)
                yield (xs[0] if len(xs) == 1 else xs), _select(targets, idx)
        else:
            for i in range(0, stop, bs):
                self.current_global_size = min(bs, n - i)
                xs = tuple(t[i : i + bs] for t in inputs)
                yield (xs[0] if len(xs) == 1 else xs), _select(targets, slice(i, i + bs))


class BucketLoader(BatchLoader):
    """A :class:`BatchLoader` whose batches hold sequences of similar lengths (:mod:`lamina.data.bucketing`).

    Args:
        dataset: padded sequences ``(N, L, ...)`` (the first input's lengths decide the buckets).
        batch_size, shuffle, generator, drop_last, device, rank, world_size, augment: as for :class:`BatchLoader`.
        bucketing: ``pad_value``, ``pool`` and ``trim`` (default: the dataset's own ``bucketing``, else the
            defaults of :class:`~lamina.data.bucketing.BucketingSpec`).
        lengths: ``(N,)`` the sequences' lengths (default: found from ``pad_value``).

    Yields:
        ``(x, y)`` as :class:`BatchLoader` does; with ``trim``, every input of two or more dimensions is cut to the
        batch's longest sequence.
    """

    def __init__(
        self,
        dataset: ArrayDataset,
        batch_size: int,
        *,
        bucketing: BucketingSpec | None = None,
        lengths: torch.Tensor | None = None,
        **options: Any,
    ) -> None:
        super().__init__(dataset, batch_size, **options)
        self.bucketing = bucketing or dataset.bucketing or BucketingSpec()
        first = self.dataset.inputs[0]
        if first.dim() < 2:
            raise ConfigError(
                f"{dataset.name or 'dataset'}: bucketing batches sequences (N, L, ...), but the inputs have shape "
                f"{tuple(first.shape)}"
            )
        self.lengths = (
            lengths.to(first.device).long()
            if lengths is not None
            else lengths_from_padding(first, self.bucketing.pad_value)
        )

    def _batches(self) -> Iterator[Batch]:
        inputs, targets = self.dataset.inputs, self.dataset.targets
        batches = bucket_batches(
            self.lengths,
            self.batch_size,
            pool=self.bucketing.pool,
            shuffle=self.shuffle,
            generator=self.generator,
            drop_last=self.drop_last,
        )
        lengths = self.lengths.cpu()
        for idx in batches:
            longest = int(lengths[idx].max())
            self.current_global_size = len(idx)
            if self.world_size > 1:
                idx = idx.tensor_split(self.world_size)[self.rank]
            idx = idx.to(inputs[0].device)
            xs = tuple(t.index_select(0, idx) for t in inputs)
            if self.bucketing.trim:
                xs = tuple(t[:, :longest] if t.dim() >= 2 else t for t in xs)
            yield (xs[0] if len(xs) == 1 else xs), _select(targets, idx)


def _select(targets: Any, index: torch.Tensor | slice) -> Any:
    """The rows ``index`` of the targets: a tensor, a tuple of tensors (one per head of a multi-task model) or None."""
    if isinstance(targets, torch.Tensor):
        return targets.index_select(0, index) if isinstance(index, torch.Tensor) else targets[index]
    return None if targets is None else tuple(_select(t, index) for t in targets)


def _to_device(batch: Any, device: torch.device) -> Any:
    if isinstance(batch, torch.Tensor):
        return batch.to(device, non_blocking=True)
    if isinstance(batch, (list, tuple)):
        return type(batch)(_to_device(b, device) for b in batch)
    return batch


class _StreamingLoader:
    """A ``DataLoader`` whose batches are moved to ``device`` and shaped ``(x, y)``."""

    def __init__(self, loader: DataLoader, device: torch.device | None) -> None:
        self.loader, self.device = loader, device

    def __len__(self) -> int:
        return len(self.loader)

    def __iter__(self) -> Iterator[Batch]:
        for batch in self.loader:
            if isinstance(batch, (list, tuple)) and len(batch) == 2:
                x, y = batch
            else:
                x, y = batch, None
            yield _to_device(x, self.device), _to_device(y, self.device)


def make_loader(
    dataset: Dataset,
    batch_size: int,
    *,
    shuffle: bool = False,
    generator: torch.Generator | None = None,
    drop_last: bool = False,
    device: torch.device | None = None,
    num_workers: int = 0,
    rank: int = 0,
    world_size: int = 1,
    augment: bool = False,
):
    """A :class:`BatchLoader` for an :class:`ArrayDataset` (a :class:`BucketLoader` for one that carries
    ``bucketing``), else a ``DataLoader`` moving batches to ``device``;
    ``augment`` applies the dataset's ``transform`` to the batches (training only)."""
    if isinstance(dataset, ArrayDataset):
        loader = BucketLoader if dataset.bucketing is not None else BatchLoader
        return loader(
            dataset,
            batch_size,
            shuffle=shuffle,
            generator=generator,
            drop_last=drop_last,
            device=device,
            rank=rank,
            world_size=world_size,
            augment=augment,
        )
    if world_size > 1:
        raise ConfigError(
            f"distributed training shards in-memory datasets (ArrayDataset); got a "
            f"{type(dataset).__name__}, which would be read whole by every process"
        )
    loader = DataLoader(
        dataset,
        batch_size=batch_size,
        shuffle=shuffle,
        generator=generator,
        drop_last=drop_last,
        num_workers=num_workers,
        pin_memory=device is not None and torch.device(device).type == "cuda",
    )
    return _StreamingLoader(loader, torch.device(device) if device is not None else None)
