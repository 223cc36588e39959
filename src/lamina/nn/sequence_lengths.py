"""Variable-length sequences in a padded batch: lengths, masks, and running a torch RNN on packed sequences.

A batch of sequences of different lengths is held padded, ``(N, L, F)``, with each example's valid steps first and
its length in ``lengths (N,)``. Recurrent layers run it *packed* (``torch.nn.utils.rnn.pack_padded_sequence``), so
no step reads padding: every output at a valid step, and every final state, equals what the layer gives for that
sequence alone; outputs at padded steps are zero. Attention layers take the complementary ``key_padding_mask``
(``True`` at padding), which gives the padded keys zero weight.

Where the data carry no lengths (an experiment file's padded arrays), ``lengths_from_padding`` recovers them from
a padding value: a sequence ends after its last step that is not entirely ``pad_value`` (Keras' ``Masking``).
"""

from __future__ import annotations

import inspect

import torch
from torch import nn
from torch.nn.utils.rnn import pack_padded_sequence, pad_packed_sequence

from lamina.errors import ShapeError

__all__ = [
    "accepts_lengths",
    "check_lengths",
    "last_outputs",
    "lengths_from_padding",
    "padding_mask",
    "reverse_padded",
    "run_packed",
]


def lengths_from_padding(x: torch.Tensor, pad_value: float = 0.0) -> torch.Tensor:
    """Each sequence's length: one past its last step whose features are not all ``pad_value``.

    Shape: ``x (N, L, ...)`` (or ``(N, L)``) -> ``(N,)`` int64, at least 1 (an all-padding sequence counts one step,
    since packed RNNs refuse empty sequences).
    """
    steps = (x != pad_value).reshape(x.shape[0], x.shape[1], -1).any(dim=-1)  # (N, L)
    index = torch.arange(1, x.shape[1] + 1, device=x.device)
    return (steps.long() * index).amax(dim=1).clamp_min(1)


def padding_mask(lengths: torch.Tensor, steps: int) -> torch.Tensor:
    """``(N, steps)`` boolean mask, ``True`` at the padded steps (``t >= lengths[n]``): attention's
    ``key_padding_mask`` convention."""
    return torch.arange(steps, device=lengths.device)[None, :] >= lengths[:, None]


def check_lengths(lengths: torch.Tensor, x: torch.Tensor, where: str) -> torch.Tensor:
    """``lengths`` as int64 on the CPU (what packing needs), after checking it fits the batch ``x (N, L, ...)``."""
    if lengths.dim() != 1 or lengths.shape[0] != x.shape[0]:
        raise ShapeError(f"{where}: lengths must be (N,) = ({x.shape[0]},), got shape {tuple(lengths.shape)}")
    cpu = lengths.detach().to("cpu", torch.long)
    if len(cpu) and (int(cpu.min()) < 1 or int(cpu.max()) > x.shape[1]):
        raise ShapeError(
            f"{where}: lengths must be in 1..{x.shape[1]} (the padded length), got {int(cpu.min())}..{int(cpu.max())}"
        )
    return cpu


def run_packed(
    rnn: nn.RNNBase, x: torch.Tensor, lengths: torch.Tensor, where: str = "recurrent layer"
) -> tuple[torch.Tensor, torch.Tensor | tuple[torch.Tensor, torch.Tensor]]:
    """Run a batch-first torch RNN over the valid steps of each padded sequence only.

    Args:
        rnn: a batch-first ``nn.RNN``/``nn.LSTM``/``nn.GRU``.
        x: ``(N, L, F)`` padded inputs.
        lengths: ``(N,)`` valid steps per sequence, in ``1..L``, in any order.

    Returns:
        ``(outputs, state)``: outputs ``(N, L, H * D)`` with zeros at padded steps, and the final state(s) as torch
        returns them (``h_n`` or ``(h_n, c_n)``, ``(num_layers * D, N, H)``), each taken at the sequence's own last
        step (for the backward direction: after reading back to step 1).
    """
    cpu = check_lengths(lengths, x, where)
    packed = pack_padded_sequence(x, cpu, batch_first=True, enforce_sorted=False)
    out, state = rnn(packed)
    padded, _ = pad_packed_sequence(out, batch_first=True, total_length=x.shape[1])
    return padded, state


def last_outputs(outputs: torch.Tensor, lengths: torch.Tensor | None, width: int, bidirectional: bool) -> torch.Tensor:
    """The output summarising each sequence: the forward direction's output at its last valid step, joined (for a
    bidirectional layer) with the backward direction's output at step 0, which has read the whole sequence.

    Shapes: ``outputs (N, L, D * width)``, ``lengths (N,)`` or ``None`` (all ``L``); returns ``(N, D * width)``.
    """
    if lengths is None:
        last = outputs[:, -1]
    else:
        index = (lengths.to(outputs.device).long() - 1).view(-1, 1, 1).expand(-1, 1, outputs.shape[2])
        last = outputs.gather(1, index)[:, 0]
    if not bidirectional:
        return last
    return torch.cat([last[:, :width], outputs[:, 0, width:]], dim=-1)


def reverse_padded(x: torch.Tensor, lengths: torch.Tensor) -> torch.Tensor:
    """Each sequence's valid steps in reverse order, its padding left in place: step ``t < lengths[n]`` of the
    result is step ``lengths[n] - 1 - t`` of ``x``. Applying it twice gives ``x`` back.

    Shapes: ``x (N, L, ...)``, ``lengths (N,)``; returns the shape of ``x``.
    """
    steps = torch.arange(x.shape[1], device=x.device)[None, :]  # (1, L)
    lengths = lengths.to(x.device).long()[:, None]  # (N, 1)
    source = torch.where(steps < lengths, lengths - 1 - steps, steps)  # (N, L)
    return x.gather(1, source.view(*source.shape, *([1] * (x.dim() - 2))).expand_as(x))


def accepts_lengths(module: nn.Module) -> bool:
    """Whether ``module.forward`` takes a ``lengths`` argument (the layers that handle padded sequences)."""
    return "lengths" in inspect.signature(module.forward).parameters
