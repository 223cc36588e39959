"""Bidirectional wrapper (Schuster & Paliwal, 1997): run a sequence layer forwards and a second copy backwards,
then join the two,

    h_t = merge(F(x_1..x_t), B(x_T..x_t)),

so every step sees its whole context. Wraps any registered sequence layer (``rnn``, ``lstm``, ``gru``, ``stacked_rnn``,
custom cells, ...): ``{ type = "bidirectional", layer = { type = "lstm", units = 64, return_sequences = true } }``.
Without ``return_sequences`` the forward copy's last output joins the backward copy's last output, which has read
the sequence from its end back to step 1 (what ``nn.LSTM(bidirectional=True)`` gives as the final states).
"""

from __future__ import annotations

import copy
from typing import Annotated

import torch
from pydantic import model_validator
from torch import nn

from lamina.config.component import Choices, spec_base, validated
from lamina.config.fields import component, raise_problems
from lamina.errors import ShapeError
from lamina.nn.nested import require_sequence
from lamina.nn.sequence_lengths import reverse_padded
from lamina.nn.spec import LayerSpec, Shape, fmt_shape
from lamina.registry import register

__all__ = ["Bidirectional", "BidirectionalSpec", "merge_directions"]


def merge_directions(forward: torch.Tensor, backward: torch.Tensor, mode: str) -> torch.Tensor:
    """Join the two directions: ``concat`` (on the feature axis), ``sum``, ``mul`` or ``ave``."""
    if mode == "concat":
        return torch.cat([forward, backward], dim=-1)
    if mode == "sum":
        return forward + backward
    if mode == "mul":
        return forward * backward
    if mode == "ave":
        return (forward + backward) / 2
    raise ValueError(f"`merge_mode` must be one of 'concat', 'sum', 'mul', 'ave', got {mode!r}")


class Bidirectional(nn.Module):
    """A forward and a backward copy of a sequence layer, merged.

    Args:
        forward_layer: maps ``(N, L, F)`` to ``(N, L, H)`` or ``(N, H)``.
        backward_layer: the same kind of layer with its own weights; it reads the reversed sequence.
        merge_mode: ``concat`` (Keras' default), ``sum``, ``mul`` or ``ave``.

    Shape: ``(N, L, F) -> (N, L, H')`` or ``(N, H')``, ``H' = 2H`` for ``concat``, else ``H``. ``forward(x,
    lengths)`` takes padded sequences (the wrapped layer must take ``lengths`` too): the backward copy reads each
    sequence from its own last valid step.

    References:
        Schuster & Paliwal (1997), "Bidirectional Recurrent Neural Networks", IEEE Trans. Signal Processing.
    """

    @validated
    def __init__(
        self,
        forward_layer: nn.Module,
        backward_layer: nn.Module | None = None,
        merge_mode: Annotated[str, Choices("concat", "sum", "mul", "ave")] = "concat",
    ) -> None:
        super().__init__()
        self.forward_layer = forward_layer
        self.backward_layer = backward_layer if backward_layer is not None else copy.deepcopy(forward_layer)
        self.merge_mode = merge_mode

    def forward(self, x: torch.Tensor, lengths: torch.Tensor | None = None) -> torch.Tensor:
        if lengths is not None:  # padded sequences: each is reversed within its own length (issue 27)
            ahead = self.forward_layer(x, lengths=lengths)
            behind = self.backward_layer(reverse_padded(x, lengths), lengths=lengths)
            if behind.dim() == x.dim():
                behind = reverse_padded(behind, lengths)
            return merge_directions(ahead, behind, self.merge_mode)
        ahead = self.forward_layer(x)
        behind = self.backward_layer(x.flip(1))
        if behind.dim() == x.dim():  # a sequence: put the backward outputs back in time order
            behind = behind.flip(1)
        return merge_directions(ahead, behind, self.merge_mode)

    def extra_repr(self) -> str:
        return f"merge_mode={self.merge_mode!r}"


@register("layer", "bidirectional")
class BidirectionalSpec(spec_base(Bidirectional, LayerSpec, exclude=("forward_layer", "backward_layer"))):  # type: ignore[misc]  # spec_base's base
    """Run ``layer`` forwards and a copy of it backwards over the sequence, and merge (Schuster & Paliwal, 1997).
    ``merge_mode`` is :class:`Bidirectional`'s, with its default and choices.

    Args:
        layer: a sequence layer table (``rnn``, ``lstm``, ``gru``, ...), built twice: the two directions.

    Shape: ``(N, L, F) -> (N, L, H')`` or ``(N, H')``.
    """

    layer: component("layer")

    @model_validator(mode="after")
    def _check(self) -> BidirectionalSpec:
        if self.layer.arity != 1:
            raise_problems(
                "bidirectional", [(("layer",), f"{self.layer.type_name} joins several inputs; wrap a sequence layer")]
            )
        return self

    def output_shape(self, input_shape: Shape) -> Shape:
        """``(L, F) -> (L, H')`` or ``(H',)``, ``H' = 2H`` for ``concat``, else ``H``; checks that ``layer`` maps
        the sequence to ``(L, H)`` or ``(H,)``."""
        require_sequence(input_shape, "a bidirectional wrapper")
        try:
            inner = tuple(self.layer.output_shape(input_shape))
        except ShapeError as err:
            raise ShapeError(f"layer ({self.layer.type_name}): {err}") from None
        if len(inner) not in (1, 2) or (len(inner) == 2 and inner[0] != input_shape[0]):
            raise ShapeError(
                f"wraps {self.layer.type_name}, which maps the sequence {fmt_shape(input_shape)} to "
                f"{fmt_shape(inner)}; a bidirectional layer needs (L, H) or (H,) outputs"
            )
        return (*inner[:-1], inner[-1] * (2 if self.merge_mode == "concat" else 1))

    def build(self, input_shape: Shape) -> nn.Module:
        """A :class:`Bidirectional` of two copies of ``layer``, each built with its own weights."""
        self.output_shape(input_shape)
        return Bidirectional(self.layer.build(input_shape), self.layer.build(input_shape), **self.options())
