"""Scaled dot-product attention (Vaswani et al., 2017):

    Attention(Q, K, V) = softmax(Q K^T / sqrt(d_k)) V,

each query's output a weighted mean of the values, weighted by how well the query matches each key. The
``1 / sqrt(d_k)`` keeps the logits' variance near 1 for unit-variance queries and keys, so the softmax does not
saturate. As a layer it joins a query and a memory in a DAG (``inputs = ["query", "keys"]``, or ``["query",
"keys", "values"]``); ``self_attention`` is the single-input, multi-head form with learned projections.
"""

from __future__ import annotations

import math

import torch
from torch import nn

from lamina.config.component import spec_base, validated
from lamina.errors import ShapeError
from lamina.nn.spec import MergeSpec, Shape, fmt_shape
from lamina.registry import register

__all__ = [
    "DotProductAttention",
    "DotProductAttentionSpec",
    "scaled_dot_product_attention",
    "causal_mask",
    "attend_mask",
    "attention_shapes",
]


def causal_mask(length_q: int, length_k: int, device: torch.device | None = None) -> torch.Tensor:
    """``(L_q, L_k)`` booleans, True where query ``i`` may attend to key ``j <= i`` (a language model's mask)."""
    return torch.ones(length_q, length_k, dtype=torch.bool, device=device).tril()


def attend_mask(mask: torch.Tensor | None, key_padding_mask: torch.Tensor | None) -> torch.Tensor | None:
    """``mask`` (True where a query may look, ``(L_q, L_k)``) joined with a ``(N, L_k)`` key padding mask (True at
    padding): ``(N, L_q, L_k)`` booleans, or ``mask`` itself when there is no padding mask."""
    if key_padding_mask is None:
        return mask
    allowed = ~key_padding_mask.bool()[:, None, :]  # (N, 1, L_k)
    return allowed if mask is None else allowed & mask


def scaled_dot_product_attention(
    q: torch.Tensor, k: torch.Tensor, v: torch.Tensor, *, mask: torch.Tensor | None = None
) -> tuple[torch.Tensor, torch.Tensor]:
    """``softmax(q k^T / sqrt(d)) v`` and the attention weights.

    Args:
        q: ``(*, L_q, d)``.
        k: ``(*, L_k, d)``.
        v: ``(*, L_k, d_v)``.
        mask: booleans broadcastable to ``(*, L_q, L_k)``, False where a query must not look (``causal_mask``).

    Returns:
        ``(output (*, L_q, d_v), weights (*, L_q, L_k))``; each row of ``weights`` sums to 1.
    """
    scores = q @ k.transpose(-2, -1) / math.sqrt(q.shape[-1])  # (*, L_q, L_k)
    if mask is not None:
        scores = scores.masked_fill(~mask, float("-inf"))
    weights = torch.softmax(scores, dim=-1)
    return weights @ v, weights


class DotProductAttention(nn.Module):
    """Parameter-free scaled dot-product attention of a query over a memory.

    ``forward(query, keys, values=None, key_padding_mask=None)``: ``values`` default to ``keys``. A query of one
    vector ``(N, d)`` gives one output ``(N, d_v)``; a sequence of queries ``(N, L_q, d)`` gives ``(N, L_q, d_v)``.
    ``key_padding_mask`` ``(N, L_k)`` is True at the memory's padded positions (variable-length memories), which then
    get zero weight: the output equals attention over each memory's valid positions alone.

    Args:
        causal: query ``i`` sees only keys ``j <= i`` (queries and keys of one sequence): each query position sees
            only memory positions up to its own.

    References:
        Vaswani, Shazeer, Parmar, Uszkoreit, Jones, Gomez, Kaiser & Polosukhin (2017), "Attention Is All You
        Need", NeurIPS.
    """

    @validated
    def __init__(self, causal: bool = False) -> None:
        super().__init__()
        self.causal = causal

    def forward(
        self,
        query: torch.Tensor,
        keys: torch.Tensor,
        values: torch.Tensor | None = None,
        key_padding_mask: torch.Tensor | None = None,
    ) -> torch.Tensor:
        single = query.dim() == 2
        q = query.unsqueeze(1) if single else query  # (N, L_q, d)
        mask = causal_mask(q.shape[1], keys.shape[1], q.device) if self.causal else None
        mask = attend_mask(mask, key_padding_mask)
        out, _ = scaled_dot_product_attention(q, keys, keys if values is None else values, mask=mask)
        return out.squeeze(1) if single else out

    def extra_repr(self) -> str:
        return f"causal={self.causal}"


def attention_shapes(shapes: list[Shape], what: str, *, same_width: bool) -> tuple[Shape, Shape, Shape]:
    """Check ``[query, keys]`` or ``[query, keys, values]`` shapes; returns ``(query, keys, values)``."""
    if len(shapes) not in (2, 3):
        raise ShapeError(f"{what} takes [query, keys] or [query, keys, values], got {len(shapes)} inputs")
    query, keys = tuple(shapes[0]), tuple(shapes[1])
    values = tuple(shapes[2]) if len(shapes) == 3 else keys
    listed = ", ".join(fmt_shape(s) for s in shapes)
    if len(query) not in (1, 2) or len(keys) != 2 or len(values) != 2:
        raise ShapeError(f"{what} needs a query (d,) or (L_q, d) and keys/values (L_k, d), got {listed}")
    if keys[0] != values[0]:
        raise ShapeError(f"{what}: keys and values must have one entry per memory position, got {listed}")
    if same_width and query[-1] != keys[-1]:
        raise ShapeError(f"{what}: query and keys must have the same width d, got {listed}")
    return query, keys, values


@register("layer", "dot_product_attention", aliases=("scaled_dot_product_attention",))
class DotProductAttentionSpec(spec_base(DotProductAttention, MergeSpec)):  # type: ignore[misc]  # a base made by spec_base
    """Scaled dot-product attention ``softmax(q K^T / sqrt(d)) V`` of a query over a memory (Vaswani et al., 2017);
    no parameters. Inputs ``[query, keys]`` (values = keys) or ``[query, keys, values]``. ``causal`` is
    :class:`DotProductAttention`'s, with its default.

    Shape: query ``(d,)`` -> ``(d_v,)``; query ``(L_q, d)`` -> ``(L_q, d_v)``; keys ``(L_k, d)``, values
    ``(L_k, d_v)``.
    """

    def output_shape(self, input_shape: list[Shape]) -> Shape:
        """``[query (d,) or (L_q, d), keys (L_k, d), values (L_k, d_v)]`` -> ``(d_v,)`` or ``(L_q, d_v)``;
        ``causal`` needs a sequence of queries."""
        query, _, values = attention_shapes(input_shape, "dot-product attention", same_width=True)
        if self.causal and len(query) != 2:
            raise ShapeError(
                f"dot-product attention: causal = true needs a sequence of queries (L_q, d), got the "
                f"single query {fmt_shape(query)}"
            )
        return (values[-1],) if len(query) == 1 else (query[0], values[-1])

    def build(self, input_shape: list[Shape]) -> nn.Module:
        """A parameter-free :class:`DotProductAttention`."""
        self.output_shape(input_shape)
        return DotProductAttention(**self.options())
