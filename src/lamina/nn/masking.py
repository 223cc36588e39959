"""Masking for experiment files: run a sequence layer on padded sequences whose lengths come from a padding value,
as Keras' ``Masking(mask_value)`` layer does for the recurrent layer after it.

``{ type = "masked", layer = { type = "lstm", units = 64 }, mask_value = 0.0 }`` finds each sequence's length (one
past its last step that is not entirely ``mask_value``) and hands it to the layer, which then ignores the padding:
recurrent layers run packed (their summary is taken at each sequence's own last step), ``bidirectional`` reverses each
sequence within its length, ``stacked_rnn`` passes the lengths to every copy, and ``self_attention`` gives the padded
positions zero weight. The outputs at padded steps are zero, so a second ``masked`` layer above finds the same
lengths. Put ``masked`` outermost (``masked`` around ``bidirectional``, not inside it: the backward copy reads the
sequence reversed, padding first). In Python, give the lengths to those layers directly: ``layer(x, lengths=lengths)``.
"""

from __future__ import annotations

import torch
from torch import nn

from lamina.config.component import spec_base, validated
from lamina.config.fields import component
from lamina.errors import ShapeError
from lamina.nn.nested import require_sequence
from lamina.nn.sequence_lengths import accepts_lengths, lengths_from_padding
from lamina.nn.spec import LayerSpec, Shape
from lamina.registry import register

__all__ = ["Masked", "MaskedSpec"]


class Masked(nn.Module):
    """A sequence layer run on the valid steps of padded sequences, their lengths found from ``mask_value``.

    Args:
        layer: a module whose ``forward(x, lengths=...)`` takes the lengths (:class:`~lamina.nn.Recurrent`,
            :class:`~lamina.nn.LSTMP`, :class:`~lamina.nn.Bidirectional`, :class:`~lamina.nn.StackedRecurrent`,
            :class:`~lamina.nn.MultiHeadSelfAttention`).
        mask_value: the value that fills the steps after a sequence's end.

    Shape: ``(N, L, F)`` -> the layer's output.
    """

    @validated
    def __init__(self, layer: nn.Module, mask_value: float = 0.0) -> None:
        super().__init__()
        if not accepts_lengths(layer):
            raise ShapeError(
                f"masked: {type(layer).__name__} takes no sequence lengths; wrap rnn, lstm, gru, lstmp, bidirectional, "
                "stacked_rnn or self_attention"
            )
        self.layer = layer
        self.mask_value = mask_value

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.layer(x, lengths=lengths_from_padding(x, self.mask_value))

    def extra_repr(self) -> str:
        return f"mask_value={self.mask_value}"


@register("layer", "masked", aliases=("masking",))
class MaskedSpec(spec_base(Masked, LayerSpec, exclude=("layer",))):  # type: ignore[misc]  # a base made by spec_base
    """Run ``layer`` on padded sequences, ignoring the steps after each sequence's end, which hold ``mask_value``
    (Keras' ``Masking``). ``mask_value``: :class:`Masked`'s.

    Args:
        layer: a sequence layer that takes lengths (``rnn``, ``lstm``, ``gru``, ``lstmp``, ``bidirectional``,
            ``stacked_rnn``, ``self_attention``).

    Shape: ``(N, L, F)`` -> the layer's output shape.
    """

    layer: component("layer")

    def output_shape(self, input_shape: Shape) -> Shape:
        """The wrapped layer's output shape, for a sequence input ``(L, F)``."""
        require_sequence(input_shape, "a masked layer")
        try:
            return self.layer.output_shape(input_shape)
        except ShapeError as err:
            raise ShapeError(f"layer ({self.layer.type_name}): {err}") from None

    def build(self, input_shape: Shape) -> nn.Module:
        """A :class:`Masked` around the built layer (which must take ``lengths``)."""
        self.output_shape(input_shape)
        return Masked(**self.options(layer=self.layer.build(input_shape)))
