"""Multi-head self-attention (Vaswani et al., 2017): every position of a sequence attends to every other,

    head_h = Attention(X W_h^Q, X W_h^K, X W_h^V),    y = concat(head_1, ..., head_H) W^O,

with :func:`~lamina.nn.dot_product_attention.scaled_dot_product_attention` in each of the ``H`` heads of width
``units / H``. ``causal = true`` hides later positions (a language model).
"""

from __future__ import annotations

from typing import Annotated

import torch
from pydantic import model_validator
from torch import nn

from lamina.config.component import Bounds, spec_base, validated
from lamina.config.fields import raise_problems
from lamina.errors import ShapeError
from lamina.nn.dot_product_attention import attend_mask, causal_mask, scaled_dot_product_attention
from lamina.nn.nested import require_sequence
from lamina.nn.sequence_lengths import padding_mask
from lamina.nn.spec import LayerSpec, Shape
from lamina.registry import register

__all__ = ["MultiHeadSelfAttention", "SelfAttentionSpec"]


class MultiHeadSelfAttention(nn.Module):
    """Multi-head scaled dot-product self-attention with learned projections.

    Args:
        features: input width F.
        units: width of the queries, keys, values and output, split over the heads (``None``: the input width F).
        heads: attention heads ``H`` (must divide ``units``).
        causal: position ``i`` attends only to positions ``j <= i`` (hides later positions, for language models).
        dropout: on the attention weights, in training.
        bias: learn biases in the four projections.

    Shape: ``(N, L, F) -> (N, L, units)``. ``forward(x, key_padding_mask=None, lengths=None)``: for padded
    sequences, ``key_padding_mask (N, L)`` (True at padding) or ``lengths (N,)``; no position attends to padding,
    so each valid position's output equals that of its sequence alone.

    Attributes:
        qkv: the three input projections as one ``nn.Linear(F, 3 units)`` (rows: queries, keys, values).
        out: ``W^O``, ``nn.Linear(units, units)``.

    References:
        Vaswani et al. (2017), "Attention Is All You Need", NeurIPS.
    """

    @validated
    def __init__(
        self,
        features: Annotated[int, Bounds(ge=1)],
        units: Annotated[int | None, Bounds(ge=1)] = None,
        heads: Annotated[int, Bounds(ge=1)] = 1,
        *,
        causal: bool = False,
        dropout: Annotated[float, Bounds(ge=0, lt=1)] = 0.0,
        bias: bool = True,
    ) -> None:
        super().__init__()
        units = features if units is None else units
        if units % heads:
            raise ValueError(f"`heads` must divide `units`, got heads={heads}, units={units}")
        self.units, self.heads, self.causal = units, heads, causal
        self.qkv = nn.Linear(features, 3 * units, bias=bias)
        self.out = nn.Linear(units, units, bias=bias)
        self.dropout = nn.Dropout(dropout)

    def forward(
        self, x: torch.Tensor, key_padding_mask: torch.Tensor | None = None, lengths: torch.Tensor | None = None
    ) -> torch.Tensor:
        n, length, _ = x.shape
        q, k, v = self.qkv(x).chunk(3, dim=-1)  # each (N, L, units)
        q, k, v = (t.view(n, length, self.heads, -1).transpose(1, 2) for t in (q, k, v))  # (N, H, L, units / H)
        mask = causal_mask(length, length, x.device) if self.causal else None
        if lengths is not None and key_padding_mask is None:
            key_padding_mask = padding_mask(lengths.to(x.device), length)
        mask = attend_mask(mask, key_padding_mask)
        mask = mask.unsqueeze(1) if mask is not None and mask.dim() == 3 else mask  # (N, 1, L, L) over the heads
        heads, weights = scaled_dot_product_attention(q, k, v, mask=mask)
        if self.dropout.p > 0 and self.training:  # dropout on the weights (Vaswani et al., section 5.4)
            heads = self.dropout(weights) @ v
        return self.out(heads.transpose(1, 2).reshape(n, length, self.units))  # (N, L, units)

    def extra_repr(self) -> str:
        return f"units={self.units}, heads={self.heads}, causal={self.causal}"


@register("layer", "self_attention", aliases=("multi_head_attention",))
class SelfAttentionSpec(spec_base(MultiHeadSelfAttention, LayerSpec, exclude=("features",))):  # type: ignore[misc]  # spec_base's base
    """Multi-head scaled dot-product self-attention over a sequence (Vaswani et al., 2017). ``units``, ``heads``,
    ``causal``, ``dropout`` and ``bias`` are :class:`MultiHeadSelfAttention`'s, with its defaults and bounds.

    Shape: ``(N, L, F) -> (N, L, units)``.
    """

    @model_validator(mode="after")
    def _check(self) -> SelfAttentionSpec:
        if self.units is not None and self.units % self.heads:
            raise_problems("self_attention", [(("heads",), f"must divide units ({self.units}), got {self.heads}")])
        return self

    def output_shape(self, input_shape: Shape) -> Shape:
        """``(L, F) -> (L, units)`` (``units`` defaults to ``F``); checks that ``heads`` divides the width."""
        require_sequence(input_shape, "self-attention")
        units = self.units or input_shape[1]
        if units % self.heads:
            raise ShapeError(f"self-attention: heads ({self.heads}) must divide the width ({units}); set `units`")
        return (input_shape[0], units)

    def build(self, input_shape: Shape) -> nn.Module:
        """A :class:`MultiHeadSelfAttention` from the input width to ``units``."""
        self.output_shape(input_shape)
        return MultiHeadSelfAttention(input_shape[1], **self.options())
