"""Retrieval dynamics: a plain per-probe, per-unit loop as the oracle for the batched sweeps; energy descent as a
property over random symmetric weights and states; synchronous steps against numpy."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from lamina.memory import async_recall, dynamics, energy, is_fixed_point, sync_recall


def symmetric(shape, seed, nonnegative_diagonal=True):
    g = torch.Generator().manual_seed(seed)
    w = torch.randn(*shape, generator=g, dtype=torch.float64)
    w = (w + w.transpose(-1, -2)) / 2
    if nonnegative_diagonal:
        w.diagonal(dim1=-2, dim2=-1).abs_()
    return w


def states(shape, seed):
    g = torch.Generator().manual_seed(seed)
    return torch.randint(0, 2, shape, generator=g).double() * 2 - 1


def reference_sweep(w: np.ndarray, s: np.ndarray, order: np.ndarray) -> np.ndarray:
    """One asynchronous sweep written the obvious way: s_u = sgn(W_u . s), a zero field keeps s_u."""
    s = s.copy()
    for u in order:
        h = w[u] @ s
        s[u] = 1.0 if h > 0 else (-1.0 if h < 0 else s[u])
    return s


@pytest.mark.parametrize("sweep", [dynamics._sweep_by_moments, dynamics._sweep_by_flips])
@pytest.mark.parametrize("memories", [None, 3])
def test_both_sweeps_equal_the_plain_loop(sweep, memories):
    n, b = 30, 5
    w = symmetric((n, n) if memories is None else (memories, n, n), seed=1, nonnegative_diagonal=False)
    s0 = states((b, n) if memories is None else (memories, b, n), seed=2)
    flat = s0.reshape(-1, n).clone()
    fields = dynamics.local_fields(w, s0).reshape(-1, n).clone()
    keys = torch.rand(flat.shape, generator=torch.Generator().manual_seed(3), dtype=torch.float64)
    columns = w.transpose(-1, -2).reshape(-1, n)
    base = torch.arange(flat.shape[0]) // b * n if memories else torch.zeros(flat.shape[0], dtype=torch.long)
    sweep(flat, fields, keys, columns, base, 0.0)
    ws = w.numpy().reshape(-1, n, n)
    for p in range(flat.shape[0]):
        expected = reference_sweep(
            ws[p // b if memories else 0], s0.reshape(-1, n)[p].numpy(), keys[p].argsort().numpy()
        )
        np.testing.assert_array_equal(flat[p].numpy(), expected)
    np.testing.assert_allclose(fields, dynamics.local_fields(w, flat.reshape(s0.shape)).reshape(-1, n), atol=1e-10)


@settings(max_examples=50, deadline=None)
@given(n=st.integers(2, 30), b=st.integers(1, 5), seed=st.integers(0, 10_000))
def test_asynchronous_updates_never_raise_the_energy(n, b, seed):
    w = symmetric((n, n), seed)  # symmetric, w_ii >= 0: the conditions of Hopfield's theorem
    s = states((b, n), seed + 1)
    previous = energy(w, s)
    for sweeps in range(1, 7):  # the same seed replays the same orders, so these are one trajectory's sweeps
        result = async_recall(w, s, max_steps=sweeps, generator=torch.Generator().manual_seed(seed))
        now = energy(w, result.states)
        assert bool((now <= previous + 1e-9).all()), (now - previous).max()
        previous = now
    final = async_recall(w, s, max_steps=1000, generator=torch.Generator().manual_seed(seed))
    assert bool(final.converged.all())  # energy descent ends in a fixed point
    assert bool(is_fixed_point(w, final.states).all())


def test_energy_is_minus_half_the_quadratic_form():
    w, s = symmetric((6, 6), 4), states((3, 6), 5)
    expected = [-0.5 * x @ w.numpy() @ x for x in s.numpy()]
    np.testing.assert_allclose(energy(w, s).numpy(), expected, atol=1e-12)


def test_a_synchronous_step_is_the_sign_of_the_field_keeping_ties():
    w = torch.tensor([[0.0, 1.0, 0.0], [1.0, 0.0, 0.0], [0.0, 0.0, 0.0]])  # unit 2's field is always 0
    s = torch.tensor([[1.0, -1.0, -1.0]])
    result = sync_recall(w, s, max_steps=1)
    expected = np.sign(w.numpy() @ s[0].numpy())
    expected[2] = -1.0  # a zero field keeps the state
    np.testing.assert_array_equal(result.states[0].numpy(), expected)
    assert result.steps.tolist() == [1]


def test_synchronous_two_cycles_are_stopped_and_not_converged():
    w = -torch.eye(4, dtype=torch.float64)  # s -> -s -> s: the synchronous network oscillates
    result = sync_recall(w, states((2, 4), 0), max_steps=100)
    assert result.steps.tolist() == [2, 2] and not bool(result.converged.any())


def test_batched_memories_match_one_at_a_time():
    w, s = symmetric((3, 12, 12), 6), states((3, 4, 12), 7)
    together = sync_recall(w, s)
    for t in range(3):
        alone = sync_recall(w[t], s[t])
        assert torch.equal(together.states[t], alone.states) and torch.equal(together.steps[t], alone.steps)
    result = async_recall(w, s, generator=torch.Generator().manual_seed(0))
    for t in range(3):  # different random orders than alone, but each must end at a fixed point of its own memory
        assert bool(is_fixed_point(w[t], result.states[t]).all())


def test_shape_errors_name_both_shapes():
    with pytest.raises(ValueError, match=r"states must be \(B, 5\) for weights of shape \(5, 5\), got \(2, 4\)"):
        energy(torch.zeros(5, 5), torch.ones(2, 4))
    with pytest.raises(ValueError, match=r"weights must be \(N, N\) or \(T, N, N\)"):
        sync_recall(torch.zeros(5, 4), torch.ones(2, 4))
    with pytest.raises(ValueError, match="must have the dtype and device of the weights"):
        energy(torch.zeros(4, 4), torch.ones(2, 4, dtype=torch.float64))
