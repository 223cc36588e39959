"""Bucketing: batches of sequences of similar lengths, so that a batch of padded sequences holds little padding.

Each epoch the examples are shuffled, cut into pools of ``pool`` batches, sorted by length within each pool and cut
into batches, and the batches are shuffled (the scheme of torchtext's ``BucketIterator`` and of TensorFlow's
``bucket_by_sequence_length``). Every example is in exactly one batch per epoch; the batches' order and make-up
change from epoch to epoch, drawn from the trainer's shuffling generator (so a resumed run draws the same). With
``trim`` each batch is cut to its longest sequence, so a recurrent layer runs no step that only padding fills.

In an experiment file: ``[data] bucketing = { pad_value = 0.0 }``; a sequence's length is one past its last step
that is not entirely ``pad_value`` (:func:`lamina.nn.sequence_lengths.lengths_from_padding`).
"""

from __future__ import annotations

import torch

from lamina.config.fields import count
from lamina.config.spec import Section

__all__ = ["BucketingSpec", "bucket_batches"]


class BucketingSpec(Section):
    """``[data] bucketing``: batch the training sequences by length.

    Args:
        pad_value: the value that fills the steps after a sequence's end.
        pool: batches per sorting pool: larger pools give batches of closer lengths, smaller ones more randomness.
        trim: cut each batch to its longest sequence (turn off for a model whose input length is fixed).
    """

    pad_value: float = 0.0
    pool: count() = 50
    trim: bool = True


def bucket_batches(
    lengths: torch.Tensor,
    batch_size: int,
    *,
    pool: int = 50,
    shuffle: bool = True,
    generator: torch.Generator | None = None,
    drop_last: bool = False,
) -> list[torch.Tensor]:
    """The batches of one epoch, as index tensors, each of examples of similar length.

    Args:
        lengths: ``(N,)`` each example's length.
        batch_size: examples per batch (the last batch of the last pool may hold fewer).
        pool: batches per pool sorted together.
        shuffle: shuffle the examples before pooling, and the batches after (else: all sorted by length, in order).
        generator: the source of both permutations.
        drop_last: leave out batches smaller than ``batch_size``.

    Returns:
        The batches in the order to use; together they hold every index ``0..N-1`` once (without ``drop_last``).
    """
    n = len(lengths)
    lengths = lengths.cpu()
    order = torch.randperm(n, generator=generator) if shuffle else torch.arange(n)
    batches: list[torch.Tensor] = []
    size = batch_size * pool if shuffle else max(n, 1)
    for start in range(0, n, size):
        chunk = order[start : start + size]
        chunk = chunk[torch.argsort(lengths[chunk], stable=True)]
        batches.extend(chunk.split(batch_size))
    if drop_last:
        batches = [b for b in batches if len(b) == batch_size]
    if shuffle and batches:
        batches = [batches[i] for i in torch.randperm(len(batches), generator=generator).tolist()]
    return batches
