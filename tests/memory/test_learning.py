"""The learning rules against independent oracles: the outer-product formula written as loops, numpy's pinv."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from lamina.memory import Hopfield, desaturate, greville_append, hebbian_weights, projection_update, projection_weights


def bipolar(m: int, n: int, seed: int) -> np.ndarray:
    return np.random.default_rng(seed).choice([-1.0, 1.0], size=(m, n))


def test_hebbian_weights_equal_the_outer_product_formula():
    patterns = bipolar(4, 7, 0)
    m, n = patterns.shape
    expected = np.zeros((n, n))
    for i in range(n):
        for j in range(n):
            if i != j:  # w_ij = (1/N) sum_mu xi_i^mu xi_j^mu, w_ii = 0 (Hopfield 1982)
                expected[i, j] = sum(patterns[mu, i] * patterns[mu, j] for mu in range(m)) / n
    got = hebbian_weights(torch.from_numpy(patterns))
    np.testing.assert_allclose(got.numpy(), expected, atol=1e-12)
    memory = Hopfield(n, "hebbian", dtype=torch.float64).store(patterns[:2]).store(patterns[2:])
    np.testing.assert_allclose(memory.weights.numpy(), expected, atol=1e-12)


def test_hebbian_desaturation_scales_the_self_coupling_m_over_n():
    patterns = bipolar(3, 5, 1)
    memory = Hopfield(5, "hebbian", desaturation=0.5, dtype=torch.float64).store(patterns)
    np.testing.assert_allclose(np.diag(memory.weights.numpy()), 0.5 * 3 / 5)


@pytest.mark.parametrize("m, n", [(3, 8), (8, 8), (20, 50)])
def test_incremental_pseudoinverse_equals_numpy_pinv(m, n):
    patterns = bipolar(m, n, m + n)
    expected = np.linalg.pinv(patterns) @ patterns  # the projection X^+ X
    one_by_one = Hopfield(n, "pseudoinverse", dtype=torch.float64)
    for row in patterns:
        one_by_one.store(row)
    at_once = Hopfield(n, "pseudoinverse", dtype=torch.float64).store(patterns)
    np.testing.assert_allclose(one_by_one.weights.numpy(), expected, atol=1e-10)
    np.testing.assert_allclose(at_once.weights.numpy(), expected, atol=1e-10)
    assert one_by_one.rank == at_once.rank == np.linalg.matrix_rank(patterns)


def test_dependent_patterns_add_nothing_and_are_counted():
    base = bipolar(3, 10, 5)
    patterns = np.vstack([base, base[0], -base[1]])  # a repeat and a negation: rank stays 3
    memory = Hopfield(10, "pseudoinverse", dtype=torch.float64)
    for row in patterns:
        memory.store(row)
    assert memory.rank == 3 and memory.patterns.shape == (5, 10)
    np.testing.assert_allclose(memory.weights.numpy(), np.linalg.pinv(patterns) @ patterns, atol=1e-10)


@settings(max_examples=25, deadline=None)
@given(m=st.integers(1, 12), n=st.integers(2, 12), rank=st.integers(1, 12), seed=st.integers(0, 10_000))
def test_greville_append_equals_numpy_pinv(m, n, rank, seed):
    rng = np.random.default_rng(seed)
    rank = min(rank, m, n)
    rows = rng.normal(size=(m, rank)) @ rng.normal(size=(rank, n))  # rank-deficient whenever rank < m
    pinv = torch.zeros(n, 0, dtype=torch.float64)
    matrix = torch.zeros(0, n, dtype=torch.float64)
    for row in torch.from_numpy(rows):
        pinv = greville_append(pinv, matrix, row, rtol=1e-9)
        matrix = torch.cat([matrix, row.unsqueeze(0)])
    np.testing.assert_allclose(pinv.numpy(), np.linalg.pinv(rows, rcond=1e-9), atol=1e-8 * (1 + np.abs(rows).max()))


@settings(max_examples=20, deadline=None)
@given(m=st.integers(1, 10), n=st.integers(2, 10), block=st.integers(1, 4), seed=st.integers(0, 10_000))
def test_block_projection_update_equals_numpy_pinv(m, n, block, seed):
    rows = np.random.default_rng(seed).normal(size=(m, n))
    got = projection_weights(torch.from_numpy(rows), block=block)
    np.testing.assert_allclose(got.numpy(), np.linalg.pinv(rows) @ rows, atol=1e-10)


def test_projection_update_is_batched_over_memories():
    rows = torch.from_numpy(np.stack([bipolar(4, 6, s) for s in range(3)]))  # (T=3, M=4, N=6)
    projection = torch.zeros(3, 6, 6, dtype=torch.float64)
    for mu in range(4):
        projection, added = projection_update(projection, rows[:, mu])
        grew = [np.linalg.matrix_rank(r[: mu + 1]) - np.linalg.matrix_rank(r[:mu]) if mu else 1 for r in rows.numpy()]
        assert added.tolist() == grew
    for t in range(3):
        x = rows[t].numpy()
        np.testing.assert_allclose(projection[t].numpy(), np.linalg.pinv(x) @ x, atol=1e-10)


def test_float32_projection_stays_exact_enough_up_to_m_equals_n():
    n = 300
    patterns = bipolar(n, n, 7)
    memory = Hopfield(n, "pseudoinverse").store(patterns)  # float32
    assert memory.rank == n
    np.testing.assert_allclose(memory.weights.double().numpy(), np.eye(n), atol=1e-4)
    assert bool(memory.is_stable().all())


@settings(max_examples=25, deadline=None)
@given(
    n=st.integers(4, 40),
    fraction=st.floats(0.05, 1.0),
    k=st.sampled_from([None, 0.05, 0.3, 1.0]),
    seed=st.integers(0, 10_000),
)
def test_every_set_of_independent_patterns_is_stored_as_fixed_points(n, fraction, k, seed):
    m = max(1, round(fraction * n))
    patterns = bipolar(m, n, seed)
    if np.linalg.matrix_rank(patterns) < m:  # the oracle's premise: linearly independent patterns
        return
    memory = Hopfield(n, "pseudoinverse", desaturation=k).store(patterns)
    assert bool(memory.is_stable().all())
    assert bool(memory.recall(patterns, mode="sync", max_steps=1).converged.all())


def test_desaturate_scales_only_the_diagonal():
    w = torch.arange(9.0).reshape(3, 3)
    got = desaturate(w, 0.25)
    expected = w.clone()
    expected[0, 0], expected[1, 1], expected[2, 2] = 0.0, 1.0, 2.0
    assert torch.equal(got, expected) and w[1, 1] == 4.0  # the input is left alone
