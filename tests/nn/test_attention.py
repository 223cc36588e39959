"""Attention layers against torch's implementations and an explicit loop; gradchecks; shape errors."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from torch.nn import functional as F

import lamina
from lamina.nn.additive_attention import AdditiveAttention
from lamina.nn.dot_product_attention import DotProductAttention, causal_mask, scaled_dot_product_attention
from lamina.nn.self_attention import MultiHeadSelfAttention
from tests.nn.gradcheck_util import gradcheck_module


@pytest.mark.parametrize("causal", [False, True])
def test_scaled_dot_product_attention_equals_torch(causal):
    g = torch.Generator().manual_seed(0)
    q, k, v = (torch.randn(2, 3, 6, 5, dtype=torch.float64, generator=g) for _ in range(3))
    mask = causal_mask(6, 6) if causal else None
    out, weights = scaled_dot_product_attention(q, k, v, mask=mask)
    torch.testing.assert_close(out, F.scaled_dot_product_attention(q, k, v, is_causal=causal))
    torch.testing.assert_close(weights.sum(-1), torch.ones(2, 3, 6, dtype=torch.float64))
    if causal:
        assert (weights.triu(1) == 0).all()


def test_single_query_attends_over_the_memory():
    layer = DotProductAttention()
    query, keys, values = torch.randn(4, 3), torch.randn(4, 7, 3), torch.randn(4, 7, 2)
    expected = torch.stack([torch.softmax(keys[n] @ query[n] / math.sqrt(3), 0) @ values[n] for n in range(4)])
    torch.testing.assert_close(layer(query, keys, values), expected)


def test_self_attention_equals_torch_multihead_attention():
    torch.manual_seed(0)
    mine = MultiHeadSelfAttention(8, 8, heads=2, causal=True).double().eval()
    ref = torch.nn.MultiheadAttention(8, 2, batch_first=True).double().eval()
    with torch.no_grad():
        ref.in_proj_weight.copy_(mine.qkv.weight)
        ref.in_proj_bias.copy_(mine.qkv.bias)
        ref.out_proj.weight.copy_(mine.out.weight)
        ref.out_proj.bias.copy_(mine.out.bias)
    x = torch.randn(3, 5, 8, dtype=torch.float64)
    expected, _ = ref(x, x, x, attn_mask=~causal_mask(5, 5), need_weights=False)
    torch.testing.assert_close(mine(x), expected)


def test_additive_attention_equals_an_explicit_loop():
    torch.manual_seed(0)
    layer = AdditiveAttention(3, 4, units=5).double()
    query, keys = torch.randn(2, 3, dtype=torch.float64), torch.randn(2, 6, 4, dtype=torch.float64)
    W, b = layer.query.weight.detach().numpy(), layer.query.bias.detach().numpy()
    U, v = layer.key.weight.detach().numpy(), layer.score.detach().numpy()
    expected = np.zeros((2, 4))
    for n in range(2):
        q, ks = query[n].numpy(), keys[n].numpy()
        e = np.array([v @ np.tanh(W @ q + U @ k + b) for k in ks])  # Bahdanau et al. (2015), eq. 6
        alpha = np.exp(e - e.max()) / np.exp(e - e.max()).sum()
        expected[n] = alpha @ ks
    np.testing.assert_allclose(layer(query, keys).detach().numpy(), expected, rtol=1e-10)


@pytest.mark.parametrize(
    "module, inputs",
    [
        (AdditiveAttention(3, 4, units=5), (torch.randn(2, 4, 3), torch.randn(2, 6, 4), torch.randn(2, 6, 2))),
        (DotProductAttention(causal=True), (torch.randn(2, 5, 3), torch.randn(2, 5, 3), torch.randn(2, 5, 2))),
        (MultiHeadSelfAttention(4, 6, heads=3, causal=True), (torch.randn(2, 5, 4),)),
    ],
)
def test_attention_gradcheck(module, inputs):
    assert gradcheck_module(module, *inputs, fast=True)


def test_attention_in_a_dag_over_an_lstm_memory():
    model = lamina.build_model(
        {
            "inputs": ["sequence", "query"],
            "nodes": [
                {"name": "memory", "type": "lstm", "units": 6, "return_sequences": True, "inputs": ["sequence"]},
                {"name": "context", "type": "additive_attention", "units": 8, "inputs": ["query", "memory"]},
            ],
        },
        {"sequence": (9, 3), "query": (5,)},
    )
    assert model(torch.randn(2, 9, 3), torch.randn(2, 5)).shape == (2, 6)


def test_attention_shape_errors_name_the_node_and_shapes():
    with pytest.raises(lamina.ShapeError, match=r"'att' \(dot_product_attention\).*same width d.*\(4,\), \(7, 5\)"):
        lamina.build_model(
            {"inputs": ["q", "k"], "nodes": [{"name": "att", "type": "dot_product_attention", "inputs": ["q", "k"]}]},
            {"q": (4,), "k": (7, 5)},
        )
    with pytest.raises(lamina.ConfigError, match=r"heads: must divide units \(6\), got 4"):
        lamina.resolve("layer", {"type": "self_attention", "units": 6, "heads": 4})
