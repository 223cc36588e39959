"""The copy task of Graves, Wayne & Danihelka (2014, section 4.1): read a sequence of random bit vectors, then a
delimiter, then write the sequence back with no input.

A batch of ``T``-step sequences of ``bits``-bit vectors is ``2 T + 1`` steps of ``bits + 1`` channels: steps
``0 .. T-1`` carry the vectors (the delimiter channel 0), step ``T`` the delimiter alone, steps ``T+1 .. 2T`` zeros;
the target is the vectors at steps ``T+1 .. 2T``, and only those steps are scored (:func:`copy_loss`,
:func:`bit_errors`).

References:
    A. Graves, G. Wayne & I. Danihelka, "Neural Turing Machines", arXiv:1410.5401, 2014.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

__all__ = ["bit_errors", "copy_batch", "copy_loss"]


def copy_batch(
    batch: int, length: int, bits: int = 8, *, generator: torch.Generator | None = None
) -> tuple[torch.Tensor, torch.Tensor]:
    """A batch of copy-task sequences, all of ``length`` vectors.

    Args:
        batch: sequences in the batch.
        length: vectors ``T`` to copy (``>= 1``).
        bits: bits per vector; each is 0 or 1 with probability 1/2.
        generator: the source of the bits (``None``: torch's global generator).

    Returns:
        ``inputs (batch, 2 T + 1, bits + 1)`` and ``targets (batch, T, bits)``.
    """
    if length < 1 or bits < 1 or batch < 1:
        raise ValueError(f"copy_batch: batch, length and bits must be >= 1, got {batch}, {length}, {bits}")
    vectors = torch.randint(0, 2, (batch, length, bits), generator=generator).float()
    inputs = torch.zeros(batch, 2 * length + 1, bits + 1)
    inputs[:, :length, :bits] = vectors
    inputs[:, length, bits] = 1.0  # the delimiter channel, the last one
    return inputs, vectors


def copy_loss(logits: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
    """Mean binary cross-entropy of the answer steps: ``logits (B, 2T + 1, bits)`` against ``targets (B, T, bits)``."""
    length = targets.shape[1]
    return F.binary_cross_entropy_with_logits(logits[:, length + 1 :], targets)


def bit_errors(logits: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
    """Wrong bits per sequence when each output is thresholded at 1/2 (logit 0), the paper's figure of merit.

    Returns: ``(B,)``, the count of wrong bits in each sequence's answer.
    """
    length = targets.shape[1]
    guesses = (logits[:, length + 1 :] > 0).to(targets.dtype)
    return (guesses != targets).sum(dim=(1, 2)).to(torch.float32)
