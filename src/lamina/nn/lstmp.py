"""LSTM with a recurrent projection layer, LSTMP (Sak, Senior & Beaufays, 2014).

Each layer's cell output ``m_t = o_t * tanh(c_t)`` (``units`` wide) is projected to ``projection < units``
values, ``r_t = W_rm m_t``, and it is ``r_t`` that feeds back into the gates and goes to the next layer:

    i, f, g, o = sigma, sigma, tanh, sigma (W_x x_t + W_r r_{t-1} + b)
    c_t = f * c_{t-1} + i * g,    r_t = W_rm (o * tanh(c_t))

so the recurrent matrices shrink from ``4 units x units`` to ``4 units x projection``: the paper's large-vocabulary
speech models keep many memory cells at a fraction of the parameters. torch's ``nn.LSTM(proj_size=...)``
implements this cell (cuDNN's too); :class:`LSTMP` wraps it batch first, with lamina's ``return_sequences`` and
variable-length sequences (``lengths``, run packed).
"""

from __future__ import annotations

import warnings
from typing import Annotated

import torch
from torch import nn

from lamina.config.component import Bounds, spec_base, validated
from lamina.nn.sequence_lengths import last_outputs, run_packed
from lamina.nn.spec import LayerSpec, Shape, require_rank
from lamina.registry import register

__all__ = ["LSTMP", "LSTMPSpec"]

# torch says so on every CPU call; its own (non-oneDNN) kernel is the one that runs, and it is correct
warnings.filterwarnings("ignore", message="LSTM with projections is not supported with oneDNN")


class LSTMP(nn.Module):
    """A (deep, optionally bidirectional) LSTM whose layers output a linear projection of their cell outputs.

    Args:
        input_size: features per step.
        units: memory cells per layer and direction.
        projection: size of the projected output ``r_t`` (below ``units``).
        num_layers: stacked layers, each reading the projected outputs of the one below.
        bidirectional: also run each layer backwards and concatenate the two directions (Graves, Mohamed &
            Hinton's deep bidirectional LSTM, 2013).
        dropout: on the outputs of every layer but the last, in training.
        return_sequences: output every step (for stacking or CTC) or only the summary of the sequence.

    Shape: ``(N, L, input_size) -> (N, L, projection * D)`` with ``return_sequences``, else
    ``(N, projection * D)`` (``D = 2`` if bidirectional). ``forward(x, lengths)`` takes ``lengths (N,)`` for padded
    sequences: padded steps are skipped (outputs there are zero), and the summary is taken at each sequence's end.

    Attributes:
        rnn: the batch-first ``nn.LSTM(proj_size=projection)``; its ``weight_hr_l{k}`` are the projections ``W_rm``.

    References:
        Sak, Senior & Beaufays (2014), "Long Short-Term Memory Recurrent Neural Network Architectures for Large
        Scale Acoustic Modeling", Interspeech.
    """

    @validated
    def __init__(
        self,
        input_size: Annotated[int, Bounds(ge=1)],
        units: Annotated[int, Bounds(ge=2)],
        projection: Annotated[int, Bounds(ge=1)],
        *,
        num_layers: Annotated[int, Bounds(ge=1)] = 1,
        bidirectional: bool = False,
        dropout: Annotated[float, Bounds(ge=0, lt=1)] = 0.0,
        return_sequences: bool = True,
    ) -> None:
        super().__init__()
        if projection >= units:
            raise ValueError(
                f"LSTMP: projection ({projection}) must be smaller than units ({units}); without a reduction use "
                'an ordinary { type = "lstm" }'
            )
        self.rnn = nn.LSTM(
            input_size,
            units,
            num_layers=num_layers,
            batch_first=True,
            bidirectional=bidirectional,
            dropout=dropout if num_layers > 1 else 0.0,
            proj_size=projection,
        )
        self.projection = projection
        self.return_sequences = return_sequences

    def forward(self, x: torch.Tensor, lengths: torch.Tensor | None = None) -> torch.Tensor:
        if lengths is None:
            out, _ = self.rnn(x)
        else:
            out, _ = run_packed(self.rnn, x, lengths, "lstmp")
        if self.return_sequences:
            return out
        return last_outputs(out, lengths, self.projection, self.rnn.bidirectional)

    def extra_repr(self) -> str:
        return f"return_sequences={self.return_sequences}"


@register("layer", "lstmp", aliases=("projected_lstm",))
class LSTMPSpec(spec_base(LSTMP, LayerSpec, exclude=("input_size",))):  # type: ignore[misc]  # a base made by spec_base
    """LSTM with a recurrent projection layer (Sak, Senior & Beaufays, 2014): ``units`` cells per layer, of which
    only a ``projection``-wide linear map is fed back and passed on. ``units``, ``projection``, ``num_layers``,
    ``bidirectional``, ``dropout`` and ``return_sequences``: :class:`LSTMP`'s, with its defaults.

    Shape: ``(N, L, F) -> (N, L, projection * D)`` or ``(N, projection * D)``.
    """

    def output_shape(self, input_shape: Shape) -> Shape:
        """``(L, F) -> (L, P * D)`` with ``return_sequences``, else ``(P * D,)``."""
        require_rank(input_shape, 2, "an lstmp layer (sequence length, features)")
        width = self.projection * (2 if self.bidirectional else 1)
        return (input_shape[0], width) if self.return_sequences else (width,)

    def build(self, input_shape: Shape) -> nn.Module:
        """An :class:`LSTMP` reading ``F`` features per step."""
        self.output_shape(input_shape)
        return LSTMP(input_shape[1], **self.options())
