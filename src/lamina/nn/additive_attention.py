"""Additive attention (Bahdanau, Cho & Bengio, 2015): a small feed-forward network scores how well a query
(a decoder state) matches each position of a memory (the encoder's outputs),

    e_j = v^T tanh(W q + U k_j + b),    alpha = softmax(e),    c = sum_j alpha_j v_j,

and the context ``c`` is the values' mean weighted by ``alpha``. Unlike the dot product it compares query and
keys of different widths.
"""

from __future__ import annotations

from typing import Annotated

import torch
from torch import nn

from lamina.config.component import Bounds, spec_base, validated
from lamina.nn.dot_product_attention import attention_shapes
from lamina.nn.spec import MergeSpec, Shape
from lamina.registry import register

__all__ = ["AdditiveAttention", "AdditiveAttentionSpec", "additive_attention"]


def additive_attention(
    query_proj: torch.Tensor,
    key_proj: torch.Tensor,
    values: torch.Tensor,
    score: torch.Tensor,
    key_padding_mask: torch.Tensor | None = None,
) -> tuple[torch.Tensor, torch.Tensor]:
    """Context vectors and weights from projected queries and keys.

    Args:
        query_proj: ``W q + b``, ``(N, L_q, units)``.
        key_proj: ``U k``, ``(N, L_k, units)``.
        values: ``(N, L_k, d_v)``.
        score: ``v``, ``(units,)``.
        key_padding_mask: ``(N, L_k)``, True at the memory's padded positions, which get zero weight.

    Returns:
        ``(context (N, L_q, d_v), weights (N, L_q, L_k))``.
    """
    hidden = torch.tanh(query_proj.unsqueeze(2) + key_proj.unsqueeze(1))  # (N, L_q, L_k, units)
    scores = hidden @ score  # (N, L_q, L_k)
    if key_padding_mask is not None:
        scores = scores.masked_fill(key_padding_mask.bool()[:, None, :], float("-inf"))
    weights = torch.softmax(scores, dim=-1)
    return weights @ values, weights


class AdditiveAttention(nn.Module):
    """Bahdanau attention of a query over a memory.

    ``forward(query, keys, values=None, key_padding_mask=None)``: ``values`` default to ``keys``; a query ``(N, d_q)``
    gives ``(N, d_v)``, a sequence of queries ``(N, L_q, d_q)`` gives ``(N, L_q, d_v)``; ``key_padding_mask``
    ``(N, L_k)`` is True at padded memory positions.

    Args:
        query_features, key_features: widths ``d_q`` and ``d_k``.
        units: hidden width of the scoring network.

    Attributes:
        query: ``W`` and ``b``; key: ``U`` (no bias: ``b`` serves both); score: ``v``, ``(units,)``.

    References:
        Bahdanau, Cho & Bengio (2015), "Neural Machine Translation by Jointly Learning to Align and Translate",
        ICLR.
    """

    @validated
    def __init__(
        self,
        query_features: Annotated[int, Bounds(ge=1)],
        key_features: Annotated[int, Bounds(ge=1)],
        units: Annotated[int, Bounds(ge=1)] = 64,
    ) -> None:
        super().__init__()
        self.query = nn.Linear(query_features, units)
        self.key = nn.Linear(key_features, units, bias=False)
        self.score = nn.Parameter(torch.empty(units).uniform_(-(units**-0.5), units**-0.5))

    def forward(
        self,
        query: torch.Tensor,
        keys: torch.Tensor,
        values: torch.Tensor | None = None,
        key_padding_mask: torch.Tensor | None = None,
    ) -> torch.Tensor:
        single = query.dim() == 2
        q = query.unsqueeze(1) if single else query  # (N, L_q, d_q)
        values = keys if values is None else values
        context, _ = additive_attention(self.query(q), self.key(keys), values, self.score, key_padding_mask)
        return context.squeeze(1) if single else context


@register("layer", "additive_attention", aliases=("bahdanau_attention",))
class AdditiveAttentionSpec(spec_base(AdditiveAttention, MergeSpec, exclude=("query_features", "key_features"))):  # type: ignore[misc]  # spec_base's base
    """Additive attention ``softmax(v^T tanh(W q + U k_j + b))`` over a memory (Bahdanau et al., 2015). Inputs
    ``[query, keys]`` (values = keys) or ``[query, keys, values]``; query and keys may differ in width. ``units``
    is :class:`AdditiveAttention`'s, with its default and bounds.

    Shape: query ``(d_q,)`` -> ``(d_v,)``; query ``(L_q, d_q)`` -> ``(L_q, d_v)``; keys ``(L_k, d_k)``, values
    ``(L_k, d_v)``.
    """

    def output_shape(self, input_shape: list[Shape]) -> Shape:
        """``[query (d_q,) or (L_q, d_q), keys (L_k, d_k), values (L_k, d_v)]`` -> ``(d_v,)`` or ``(L_q, d_v)``."""
        query, _, values = attention_shapes(input_shape, "additive attention", same_width=False)
        return (values[-1],) if len(query) == 1 else (query[0], values[-1])

    def build(self, input_shape: list[Shape]) -> nn.Module:
        """An :class:`AdditiveAttention` for the query and key widths, with ``units`` hidden units."""
        query, keys, _ = attention_shapes(input_shape, "additive attention", same_width=False)
        return AdditiveAttention(query[-1], keys[-1], **self.options())
