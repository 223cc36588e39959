"""The Neural Turing Machine as a layer: an LSTM controller with one read head and one write head on an ``N x W``
memory (Graves, Wayne & Danihelka, 2014).

At each step ``t`` the controller reads ``[x_t, r_{t-1}]``; from its output ``h_t`` the write head emits its
addressing parameters with an erase vector ``e`` and an add vector ``a`` and writes ``M_t``; the read head then
addresses ``M_t`` and reads ``r_t``; the layer's output is ``y_t = V [h_t, r_t] + b``. The memory operations are
the pure functions of :mod:`lamina.memory.ntm`.

The memory starts at a small constant (``1e-6`` everywhere), which Collier & Beel (2018) found to train fastest and
most reliably of the initialisations they compared; the first read vector and each head's first weighting
(``softmax`` of a learned vector, starting with 0.9 on row 0: see :func:`focused_logits`) are learned.

References:
    A. Graves, G. Wayne & I. Danihelka, "Neural Turing Machines", arXiv:1410.5401, 2014.
    M. Collier & J. Beel, "Implementing Neural Turing Machines", ICANN 2018.
"""

from __future__ import annotations

import math
from typing import Annotated

import torch
from torch import nn

from lamina.config.component import Bounds, spec_base, validated
from lamina.memory.ntm import address, head_activations, read, write
from lamina.nn.spec import LayerSpec, Shape, require_rank
from lamina.registry import register

__all__ = ["NTM", "NTMSpec"]

MEMORY_INIT = 1e-6  # the constant every memory cell starts at (Collier & Beel, 2018)


def focused_logits(slots: int, focus: float = 0.9) -> torch.Tensor:
    """Logits whose softmax puts ``focus`` on row 0 and the rest evenly on the others, ``(slots,)``.

    A head that starts spread evenly over a memory whose rows are all equal writes the same thing everywhere, so
    the rows stay equal and content addressing cannot tell them apart; starting focused breaks that symmetry and
    lets shifts walk through memory from the first step.
    """
    logits = torch.zeros(slots)
    if slots > 1:
        logits[0] = math.log(focus * (slots - 1) / (1.0 - focus))
    return logits


class NTM(nn.Module):
    """A Neural Turing Machine over a sequence: ``(B, L, in_features) -> (B, L, units)``.

    Args:
        in_features: features of each input step.
        units: features of each output step (linear: add an activation, or use a logits loss).
        memory_slots: rows ``N`` of the memory.
        memory_width: width ``W`` of each row.
        controller_units: hidden size of the LSTM controller.
        shift_range: the heads can shift their focus by ``-R .. R`` rows per step (``2R + 1 <= N``).

    Shape: ``(B, L, in_features) -> (B, L, units)``.

    Attributes:
        controller: ``nn.LSTMCell(in_features + W, controller_units)``.
        read_head: ``nn.Linear(controller_units, W + 3 + 2R + 1)``: key, beta, gate, shift logits, gamma.
        write_head: ``nn.Linear(controller_units, 3 W + 3 + 2R + 1)``: the same, then erase and add vectors.
        output: ``nn.Linear(controller_units + W, units)``.
        initial_read: ``(W,)``, the read vector ``r_0``.
        initial_read_logits, initial_write_logits: ``(N,)``, the heads' weightings ``w_0 = softmax(.)``, starting
            focused on row 0.

    Example::

        ntm = NTM(9, units=8, memory_slots=32, memory_width=8)
        y = ntm(torch.randn(4, 12, 9))        # (4, 12, 8)

    References:
        A. Graves, G. Wayne & I. Danihelka, "Neural Turing Machines", arXiv:1410.5401, 2014.
    """

    @validated
    def __init__(
        self,
        in_features: Annotated[int, Bounds(ge=1)],
        units: Annotated[int, Bounds(ge=1)],
        memory_slots: Annotated[int, Bounds(ge=1)] = 128,
        memory_width: Annotated[int, Bounds(ge=1)] = 20,
        controller_units: Annotated[int, Bounds(ge=1)] = 100,
        shift_range: Annotated[int, Bounds(ge=0)] = 1,
    ) -> None:
        super().__init__()
        if 2 * shift_range + 1 > memory_slots:
            raise ValueError(
                f"ntm: shift_range {shift_range} needs at least {2 * shift_range + 1} memory_slots, got {memory_slots}"
            )
        self.in_features, self.units = in_features, units
        self.memory_slots, self.memory_width = memory_slots, memory_width
        self.controller_units, self.shift_range = controller_units, shift_range
        self.shift_width = 2 * shift_range + 1
        head = memory_width + 3 + self.shift_width
        self.controller = nn.LSTMCell(in_features + memory_width, controller_units)
        self.read_head = nn.Linear(controller_units, head)
        self.write_head = nn.Linear(controller_units, head + 2 * memory_width)
        self.output = nn.Linear(controller_units + memory_width, units)
        self.initial_read = nn.Parameter(torch.randn(memory_width) * 0.01)
        self.initial_read_logits = nn.Parameter(focused_logits(memory_slots))
        self.initial_write_logits = nn.Parameter(focused_logits(memory_slots))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        batch, length, _ = x.shape
        width, head = self.memory_width, self.memory_width + 3 + self.shift_width
        memory = x.new_full((batch, self.memory_slots, width), MEMORY_INIT)
        r = self.initial_read.expand(batch, width)
        w_read = torch.softmax(self.initial_read_logits, dim=-1).expand(batch, -1)
        w_write = torch.softmax(self.initial_write_logits, dim=-1).expand(batch, -1)
        h = x.new_zeros(batch, self.controller_units)
        c = x.new_zeros(batch, self.controller_units)
        outputs = []
        for t in range(length):
            h, c = self.controller(torch.cat([x[:, t], r], dim=-1), (h, c))
            raw = self.write_head(h)
            w_write = address(memory, w_write, **head_activations(raw[:, :head], width, self.shift_width))
            erase, add = torch.split(raw[:, head:], [width, width], dim=-1)
            memory = write(memory, w_write, torch.sigmoid(erase), torch.tanh(add))
            w_read = address(memory, w_read, **head_activations(self.read_head(h), width, self.shift_width))
            r = read(memory, w_read)
            outputs.append(self.output(torch.cat([h, r], dim=-1)))
        return torch.stack(outputs, dim=1)

    def extra_repr(self) -> str:
        return (
            f"in_features={self.in_features}, units={self.units}, memory={self.memory_slots}x{self.memory_width}, "
            f"controller_units={self.controller_units}, shift_range={self.shift_range}"
        )


@register("layer", "ntm", aliases=("neural_turing_machine",))
class NTMSpec(spec_base(NTM, LayerSpec, exclude=("in_features",))):  # type: ignore[misc]  # a base made by spec_base
    """Neural Turing Machine (Graves et al., 2014): an LSTM controller with one read and one write head on an
    ``memory_slots x memory_width`` memory, addressed by content, interpolation, circular shift and sharpening.
    ``units`` (output features per step), ``memory_slots``, ``memory_width``, ``controller_units`` and
    ``shift_range``: :class:`NTM`'s, with its defaults and bounds (the paper's 128 x 20 memory, 100 LSTM units).

    Shape: ``(L, F) -> (L, units)``, one output per input step.
    """

    def output_shape(self, input_shape: Shape) -> Shape:
        """``(L, F) -> (L, units)``."""
        require_rank(input_shape, 2, "an ntm layer (sequence length, features)")
        return (input_shape[0], self.units)

    def build(self, input_shape: Shape) -> nn.Module:
        """An :class:`NTM` over the input's features."""
        self.output_shape(input_shape)
        return NTM(input_shape[1], **self.options())
