"""The modern Hopfield network: its energy against scipy's logsumexp, energy descent (Ramsauer et al.'s Theorem 1),
one-step retrieval against brute-force nearest patterns, and the layer against torch's attention."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.special import logsumexp
from torch.nn import functional as F

from lamina.errors import ShapeError
from lamina.memory import HopfieldAttention, ModernHopfield, PatternError, flip_bits, modern_energy, softmax_update
from lamina.registry import resolve


def test_energy_matches_the_formula_with_scipy():
    rng = np.random.default_rng(0)
    x, xi, beta = rng.normal(size=(7, 5)), rng.normal(size=(3, 5)), 0.7
    expected = [
        -logsumexp(beta * x @ s) / beta + 0.5 * s @ s + math.log(7) / beta + 0.5 * max(np.sum(x**2, axis=1)) for s in xi
    ]
    got = modern_energy(torch.from_numpy(xi), torch.from_numpy(x), beta)
    np.testing.assert_allclose(got.numpy(), expected, rtol=1e-12)
    memory = ModernHopfield(5, beta=beta, dtype=torch.float64).store(x)
    np.testing.assert_allclose(memory.energy(xi).numpy(), expected, rtol=1e-12)


@settings(max_examples=30, deadline=None)
@given(m=st.integers(1, 20), d=st.integers(1, 12), beta=st.floats(0.05, 8.0), seed=st.integers(0, 10_000))
def test_the_update_never_raises_the_energy(m, d, beta, seed):
    g = torch.Generator().manual_seed(seed)
    x = torch.randn(m, d, generator=g, dtype=torch.float64)
    state = torch.randn(4, d, generator=g, dtype=torch.float64) * 2
    for _ in range(5):
        new = softmax_update(state, x, beta)
        assert bool((modern_energy(new, x, beta) <= modern_energy(state, x, beta) + 1e-10).all())
        state = new


def test_one_update_retrieves_the_nearest_of_many_patterns():
    d, m = 64, 1000  # far more patterns than the classic network's 0.138 d ~ 9
    g = torch.Generator().manual_seed(0)
    patterns = torch.randint(0, 2, (m, d), generator=g).float() * 2 - 1
    probes = flip_bits(patterns[:50], 0.15, generator=g)
    nearest = (probes @ patterns.t()).argmax(dim=1)  # brute force: the stored pattern with the largest overlap
    assert torch.equal(nearest, torch.arange(50))
    result = ModernHopfield(d, beta=1.0).store(patterns).recall(probes, max_steps=1)
    assert float((result.states - patterns[nearest]).abs().max()) < 1e-4


def test_recall_converges_and_stored_patterns_are_stable():
    g = torch.Generator().manual_seed(1)
    patterns = torch.randint(0, 2, (30, 32), generator=g).float() * 2 - 1
    memory = ModernHopfield(32, beta=2.0).store(patterns)
    assert bool(memory.is_stable().all())
    result = memory.recall(flip_bits(patterns, 0.1, generator=g), max_steps=10, tol=1e-6)
    assert bool(result.converged.all()) and int(result.steps.max()) <= 3
    soft = ModernHopfield(32, beta=1e-3).store(patterns)  # a hot memory averages: nothing is a fixed point
    assert not bool(soft.is_stable().any())


def test_modern_bad_input():
    with pytest.raises(ValueError, match="`beta` must be a positive number"):
        ModernHopfield(4, beta=0)
    memory = ModernHopfield(4)
    with pytest.raises(ValueError, match="the memory is empty: store patterns before recalling"):
        memory.recall(torch.ones(4))
    with pytest.raises(ShapeError, match="patterns have 3 values per row, expected 4"):
        memory.store(torch.ones(2, 3))
    with pytest.raises(PatternError, match="patterns row 1 holds a value that is not finite"):
        memory.store([[1.0, 2, 3, 4], [1, float("inf"), 0, 0]])


@pytest.mark.parametrize("shape", [(6, 5), (6, 9, 5)])
def test_one_step_layer_is_scaled_dot_product_attention(shape):
    layer = HopfieldAttention(5, units=3, num_patterns=11, hidden=4).double()
    x = torch.randn(*shape, dtype=torch.float64)
    q = layer.query(x)
    keys, values = layer.keys, layer.values
    if x.dim() == 2:
        q = q.unsqueeze(1)
    expected = F.scaled_dot_product_attention(
        q, keys.expand(q.shape[0], -1, -1), values.expand(q.shape[0], -1, -1), scale=layer.beta
    )
    torch.testing.assert_close(layer(x), expected.reshape(*shape[:-1], 3))
    assert layer.beta == pytest.approx(0.5)  # 1 / sqrt(hidden)


def test_more_steps_run_the_hopfield_update_before_reading_out():
    layer = HopfieldAttention(4, units=2, num_patterns=6, steps=3, beta=0.8).double()
    x = torch.randn(5, 4, dtype=torch.float64)
    state = layer.query(x)
    for _ in range(2):
        state = softmax_update(state, layer.keys, 0.8)
    expected = torch.softmax(0.8 * state @ layer.keys.t(), dim=-1) @ layer.values
    torch.testing.assert_close(layer(x), expected)


def test_layer_spec_errors():
    spec = resolve("layer", {"type": "hopfield_attention", "units": 2, "num_patterns": 4})
    with pytest.raises(ShapeError, match="hopfield_attention"):
        spec.output_shape((2, 3, 4))
    with pytest.raises(Exception, match="beta: expected a number > 0, got 0"):
        resolve("layer", {"type": "hopfield_attention", "units": 2, "num_patterns": 4, "beta": 0})
