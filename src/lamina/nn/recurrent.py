"""Recurrent layers: the simple (Elman) RNN, LSTM (Hochreiter & Schmidhuber, 1997) and GRU (Cho et al., 2014),
batch first, returning the outputs only (not the hidden state) so that they stack like any layer.
"""

from __future__ import annotations

from typing import ClassVar

import torch
from torch import nn

from lamina.config.fields import choice, component, count, number
from lamina.nn.sequence_lengths import last_outputs, run_packed
from lamina.nn.spec import LayerSpec, Shape, require_rank
from lamina.registry import register

__all__ = ["Recurrent", "RecurrentSpec", "RNNSpec", "LSTMSpec", "GRUSpec"]


class Recurrent(nn.Module):
    """Wrap a batch-first ``nn.RNN``/``nn.LSTM``/``nn.GRU``: return the output sequence, or its last step.

    Shape: ``(N, L, F) -> (N, L, H * D)`` with ``return_sequences``, else ``(N, H * D)`` (D = 2 if
    bidirectional). The last step of a bidirectional layer joins the forward direction's final output with
    the backward direction's output at step 0 (where it has read the whole sequence).

    ``forward(x, lengths)`` takes padded sequences with their lengths ``(N,)``: they run packed, so no step reads
    padding, outputs at padded steps are zero, and the last step is each sequence's own
    (:mod:`lamina.nn.sequence_lengths`).
    """

    def __init__(self, rnn: nn.RNNBase, return_sequences: bool) -> None:
        super().__init__()
        self.rnn = rnn
        self.return_sequences = return_sequences

    def forward(self, x: torch.Tensor, lengths: torch.Tensor | None = None) -> torch.Tensor:
        if lengths is not None:  # padded sequences: run packed (issue 27)
            out, _ = run_packed(self.rnn, x, lengths, type(self.rnn).__name__)
            return (
                out
                if self.return_sequences
                else last_outputs(out, lengths, self.rnn.hidden_size, self.rnn.bidirectional)
            )
        out, _ = self.rnn(x)  # (N, L, H * D)
        if self.return_sequences:
            return out
        if not self.rnn.bidirectional:
            return out[:, -1]
        h = self.rnn.hidden_size
        return torch.cat([out[:, -1, :h], out[:, 0, h:]], dim=-1)

    def extra_repr(self) -> str:
        return f"return_sequences={self.return_sequences}"


class RecurrentSpec(LayerSpec):
    """A recurrent layer over sequences of feature vectors.

    Args:
        units: hidden size H.
        num_layers: stacked layers.
        bidirectional: also run the sequence backwards, concatenating both directions.
        dropout: between stacked layers.
        return_sequences: output every step (for stacking or sequence labelling) or only the last (for
            classifying a sequence), as in Keras.
        init, recurrent_init: initializers of the input-to-hidden and hidden-to-hidden matrices (``None``:
            torch's U(-1/sqrt(H), 1/sqrt(H))); ``recurrent_init = "orthogonal"`` is the usual choice.

    Shape: ``(N, L, F) -> (N, L, H * D)`` or ``(N, H * D)``.
    """

    torch_class: ClassVar[type[nn.RNNBase]] = nn.RNN

    units: count()
    num_layers: count() = 1
    bidirectional: bool = False
    dropout: number(0, 1, hi_open=True) = 0.0
    return_sequences: bool = False
    init: component("initializer") | None = None
    recurrent_init: component("initializer") | None = None

    def output_shape(self, input_shape: Shape) -> Shape:
        """``(L, F) -> (L, H * D)`` with ``return_sequences``, else ``(H * D,)``."""
        require_rank(input_shape, 2, "a recurrent layer (sequence length, features)")
        width = self.units * (2 if self.bidirectional else 1)
        return (input_shape[0], width) if self.return_sequences else (width,)

    def _torch_kwargs(self) -> dict:
        return {}

    def build(self, input_shape: Shape) -> nn.Module:
        """The batch-first torch RNN (initialised per gate as asked) inside a :class:`Recurrent`."""
        self.output_shape(input_shape)
        rnn = self.torch_class(
            input_shape[1],
            self.units,
            num_layers=self.num_layers,
            batch_first=True,
            bidirectional=self.bidirectional,
            dropout=self.dropout,
            **self._torch_kwargs(),
        )
        for name, param in rnn.named_parameters():
            if name.startswith("weight_ih") and self.init is not None:
                self._fill_gates(param, self.init)
            if name.startswith("weight_hh") and self.recurrent_init is not None:
                self._fill_gates(param, self.recurrent_init)
        return Recurrent(rnn, self.return_sequences)

    def _fill_gates(self, weight: torch.Tensor, init) -> None:
        # LSTM and GRU stack their gates' matrices; each gate gets its own (e.g. orthogonal) block
        for block in weight.data.chunk(weight.shape[0] // self.units, dim=0):
            init.fill(block)


@register("layer", "rnn", aliases=("simple_rnn", "elman_rnn"))
class RNNSpec(RecurrentSpec):
    """The simple recurrent network h_t = f(W x_t + U h_{t-1} + b) (Elman, 1990)."""

    torch_class: ClassVar[type[nn.RNNBase]] = nn.RNN
    target_class: ClassVar[type] = nn.RNN  # lamina's `units` is its hidden_size (see the consistency test)
    nonlinearity: choice("tanh", "relu") = "tanh"

    def _torch_kwargs(self) -> dict:
        return {"nonlinearity": self.nonlinearity}


@register("layer", "lstm")
class LSTMSpec(RecurrentSpec):
    """Long short-term memory (Hochreiter & Schmidhuber, 1997; forget gate of Gers et al., 2000)."""

    torch_class: ClassVar[type[nn.RNNBase]] = nn.LSTM
    target_class: ClassVar[type] = nn.LSTM  # lamina's `units` is its hidden_size (see the consistency test)


@register("layer", "gru")
class GRUSpec(RecurrentSpec):
    """Gated recurrent unit (Cho et al., 2014)."""

    torch_class: ClassVar[type[nn.RNNBase]] = nn.GRU
    target_class: ClassVar[type] = nn.GRU  # lamina's `units` is its hidden_size (see the consistency test)
