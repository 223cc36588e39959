"""The Neural Turing Machine's addressing, read and write (Graves et al., 2014) against hand-written oracles:
numpy formulas, np.roll mixtures, element-by-element loops and small examples computed by hand."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from lamina.errors import ConfigError, ShapeError
from lamina.memory.ntm import (
    address,
    content_weights,
    cosine_similarity,
    interpolate,
    read,
    sharpen,
    shift,
    write,
)
from lamina.memory.ntm_layer import NTM
from lamina.registry import resolve
from tests.nn.gradcheck_util import gradcheck_module

RNG = np.random.default_rng(0)


def t(a):
    return torch.tensor(a, dtype=torch.float64)


def test_cosine_and_content_weights_match_numpy():
    key, memory, beta = RNG.normal(size=(2, 4)), RNG.normal(size=(2, 5, 4)), np.array([0.5, 3.0])
    cos = np.array([[k @ m / (np.linalg.norm(k) * np.linalg.norm(m)) for m in mem] for k, mem in zip(key, memory)])
    expected = np.exp(beta[:, None] * cos)
    expected /= expected.sum(axis=1, keepdims=True)
    np.testing.assert_allclose(cosine_similarity(t(key), t(memory)).numpy(), cos, rtol=1e-7)
    np.testing.assert_allclose(content_weights(t(key), t(beta), t(memory)).numpy(), expected, rtol=1e-7)


def test_content_weights_by_hand():
    # rows (1, 0), (0, 1), (-1, 0) against key (2, 0): cosines 1, 0, -1; beta = ln 2 gives weights 2 : 1 : 1/2
    w = content_weights(t([[2.0, 0.0]]), t([np.log(2.0)]), t([[[1.0, 0.0], [0.0, 1.0], [-1.0, 0.0]]]))
    np.testing.assert_allclose(w.numpy(), [[2 / 3.5, 1 / 3.5, 0.5 / 3.5]], rtol=1e-7)


def test_zero_row_gives_zero_similarity_not_nan():
    cos = cosine_similarity(t([[1.0, 2.0]]), t([[[0.0, 0.0], [1.0, 2.0]]]))
    np.testing.assert_allclose(cos.numpy(), [[0.0, 1.0]], atol=1e-7)


def test_interpolation_is_the_gated_mixture():
    content, previous, gate = RNG.dirichlet(np.ones(5), 3), RNG.dirichlet(np.ones(5), 3), RNG.uniform(size=3)
    expected = gate[:, None] * content + (1 - gate[:, None]) * previous
    np.testing.assert_allclose(interpolate(t(content), t(previous), t(gate)).numpy(), expected, rtol=1e-12)


@pytest.mark.parametrize("radius", [0, 1, 2])
def test_shift_is_a_mixture_of_rolls(radius):
    n = 7
    w, s = RNG.dirichlet(np.ones(n), 3), RNG.dirichlet(np.ones(2 * radius + 1), 3)
    # column radius + k of s is the probability of moving the focus by +k rows: np.roll(w, k)[i] = w[i - k]
    expected = np.stack(
        [sum(s[b, radius + k] * np.roll(w[b], k) for k in range(-radius, radius + 1)) for b in range(3)]
    )
    np.testing.assert_allclose(shift(t(w), t(s)).numpy(), expected, rtol=1e-12)


def test_shift_by_hand_wraps_around():
    # focus on the last of 4 rows, shifted by +1 with certainty, lands on row 0 (eq. 8's indices are modulo N)
    np.testing.assert_array_equal(shift(t([[0.0, 0.0, 0.0, 1.0]]), t([[0.0, 0.0, 1.0]])).numpy(), [[1.0, 0, 0, 0]])
    # shift -1 with probability 1/4 and 0 with 3/4: focus on row 1 -> 1/4 on row 0, 3/4 on row 1
    np.testing.assert_allclose(shift(t([[0.0, 1.0, 0.0, 0.0]]), t([[0.25, 0.75, 0.0]])).numpy(), [[0.25, 0.75, 0, 0]])


def test_shift_refuses_a_distribution_wider_than_memory():
    with pytest.raises(ValueError, match="odd width"):
        shift(torch.ones(1, 3) / 3, torch.ones(1, 5) / 5)


def test_sharpening_matches_the_formula():
    w, gamma = RNG.dirichlet(np.ones(6), 2), np.array([1.0, 2.5])
    expected = w ** gamma[:, None] / (w ** gamma[:, None]).sum(axis=1, keepdims=True)
    np.testing.assert_allclose(sharpen(t(w), t(gamma)).numpy(), expected, rtol=1e-9)
    # by hand: (1/2, 1/4, 1/4) squared is (1/4, 1/16, 1/16), normalised (2/3, 1/6, 1/6)
    np.testing.assert_allclose(sharpen(t([[0.5, 0.25, 0.25]]), t([2.0])).numpy(), [[2 / 3, 1 / 6, 1 / 6]], rtol=1e-9)


def test_address_chains_the_four_steps():
    memory, previous = RNG.normal(size=(2, 6, 3)), RNG.dirichlet(np.ones(6), 2)
    key, beta, gate = RNG.normal(size=(2, 3)), np.array([1.0, 4.0]), np.array([0.3, 0.9])
    s, gamma = RNG.dirichlet(np.ones(3), 2), np.array([1.5, 3.0])
    cos = np.einsum("bw,bnw->bn", key, memory) / (np.linalg.norm(key, axis=1)[:, None] * np.linalg.norm(memory, axis=2))
    wc = np.exp(beta[:, None] * cos)
    wc /= wc.sum(axis=1, keepdims=True)
    wg = gate[:, None] * wc + (1 - gate[:, None]) * previous
    ws = np.stack([sum(s[b, 1 + k] * np.roll(wg[b], k) for k in (-1, 0, 1)) for b in range(2)])
    expected = ws ** gamma[:, None] / (ws ** gamma[:, None]).sum(axis=1, keepdims=True)
    got = address(t(memory), t(previous), t(key), t(beta), t(gate), t(s), t(gamma))
    np.testing.assert_allclose(got.numpy(), expected, rtol=1e-7)
    np.testing.assert_allclose(got.sum(dim=1).numpy(), [1.0, 1.0], rtol=1e-9)


def test_read_against_a_loop():
    memory, w = RNG.normal(size=(2, 5, 3)), RNG.dirichlet(np.ones(5), 2)
    expected = np.zeros((2, 3))
    for b in range(2):
        for i in range(5):
            for j in range(3):
                expected[b, j] += w[b, i] * memory[b, i, j]
    np.testing.assert_allclose(read(t(memory), t(w)).numpy(), expected, rtol=1e-12)


def test_write_against_the_erase_add_rule_elementwise():
    memory, w = RNG.normal(size=(2, 5, 3)), RNG.dirichlet(np.ones(5), 2)
    erase, add = RNG.uniform(size=(2, 3)), RNG.normal(size=(2, 3))
    expected = np.empty_like(memory)
    for b in range(2):
        for i in range(5):
            for j in range(3):
                erased = memory[b, i, j] * (1 - w[b, i] * erase[b, j])  # eq. 3
                expected[b, i, j] = erased + w[b, i] * add[b, j]  # eq. 4
    got = write(t(memory), t(w), t(erase), t(add))
    np.testing.assert_allclose(got.numpy(), expected, rtol=1e-12)


def test_write_with_a_one_hot_weighting_and_full_erase_replaces_one_row():
    memory = t(RNG.normal(size=(1, 4, 3)))
    got = write(memory, t([[0.0, 0.0, 1.0, 0.0]]), t([[1.0, 1.0, 1.0]]), t([[7.0, 8.0, 9.0]]))
    np.testing.assert_array_equal(got[0, 2].numpy(), [7.0, 8.0, 9.0])
    np.testing.assert_array_equal(got[0, [0, 1, 3]].numpy(), memory[0, [0, 1, 3]].numpy())


def test_gradients_of_the_whole_layer_match_finite_differences():
    torch.manual_seed(0)
    ntm = NTM(2, units=2, memory_slots=4, memory_width=2, controller_units=3)
    assert gradcheck_module(ntm, torch.randn(2, 3, 2), fast=True)


def test_memory_operations_gradcheck():
    memory = t(RNG.normal(size=(1, 4, 2))).requires_grad_(True)
    previous = t(RNG.dirichlet(np.ones(4), 1)).requires_grad_(True)
    key, beta, gate = t(RNG.normal(size=(1, 2))), t([2.0]), t([0.6])
    s, gamma = t(RNG.dirichlet(np.ones(3), 1)), t([1.7])
    args = [a.requires_grad_(True) for a in (key, beta, gate, s, gamma)]
    assert torch.autograd.gradcheck(lambda m, p, *a: read(m, address(m, p, *a)), (memory, previous, *args))
    erase, add = t(RNG.uniform(size=(1, 2))).requires_grad_(True), t(RNG.normal(size=(1, 2))).requires_grad_(True)
    assert torch.autograd.gradcheck(write, (memory, previous, erase, add))


def test_layer_checks_its_options():
    with pytest.raises(ValueError, match="shift_range 2 needs at least 5 memory_slots"):
        NTM(3, units=2, memory_slots=4, shift_range=2)
    with pytest.raises(ConfigError, match="memory_width"):
        resolve("layer", {"type": "ntm", "units": 2, "memory_width": 0})
    with pytest.raises(ShapeError, match="ntm layer"):
        resolve("layer", {"type": "ntm", "units": 2}).output_shape((5,))


def test_a_focused_write_then_read_recalls_the_input():
    # the layer's wiring with weights set by hand: w_0 focused on row 0, no shift, full erase -> the add vector
    # lands in row 0 and the read head (focused on row 0 too) reads it back at the same step
    torch.manual_seed(0)
    ntm = NTM(2, units=1, memory_slots=5, memory_width=2, controller_units=2).double()
    with torch.no_grad():
        for head in (ntm.read_head, ntm.write_head):
            head.weight.zero_()
            head.bias.zero_()
            head.bias[2 + 1] = -50.0  # gate 0: keep w_0
            head.bias[2 + 2 : 2 + 5] = torch.tensor([-50.0, 50.0, -50.0])  # shift 0
            head.bias[2 + 5] = 50.0  # gamma large: one-hot
        ntm.write_head.bias[8:10] = 50.0  # erase everything
        ntm.write_head.bias[10:12] = torch.tensor([0.2, -0.4])  # tanh(add) = (tanh 0.2, tanh -0.4)
        ntm.initial_write_logits.copy_(torch.tensor([20.0, 0, 0, 0, 0]))
        ntm.initial_read_logits.copy_(torch.tensor([20.0, 0, 0, 0, 0]))
        ntm.output.weight.zero_()
        ntm.output.weight[0, 2:4] = torch.tensor([1.0, 10.0])  # y = r_1 + 10 r_2
        ntm.output.bias.zero_()
    y = ntm(torch.randn(1, 1, 2, dtype=torch.float64))
    assert y.item() == pytest.approx(np.tanh(0.2) + 10 * np.tanh(-0.4), abs=1e-6)
