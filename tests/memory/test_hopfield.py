"""The Hopfield memory as a user meets it: storage, recall, energy, stability, and every bad input with its message."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from lamina.errors import ShapeError
from lamina.memory import Hopfield, PatternError, flip_bits


def bipolar(m, n, seed):
    return torch.from_numpy(np.random.default_rng(seed).choice([-1.0, 1.0], size=(m, n))).float()


@pytest.mark.parametrize("rule", ["hebbian", "pseudoinverse"])
@pytest.mark.parametrize("mode", ["async", "sync"])
def test_recall_cleans_up_noisy_probes_below_capacity(rule, mode):
    patterns = bipolar(8, 200, 0)  # load 0.04: far below 0.138
    memory = Hopfield(200, rule).store(patterns)
    noisy = flip_bits(patterns, 0.1, generator=torch.Generator().manual_seed(1))
    result = memory.recall(noisy, mode=mode, seed=2)
    assert torch.equal(result.states, patterns)
    assert result.steps.shape == (8,) and bool((result.steps >= 1).all()) and bool(result.converged.all())


def test_binary_patterns_are_stored_as_bipolar():
    binary = (bipolar(5, 30, 1) > 0).long()
    a = Hopfield(30, "pseudoinverse").store(binary)
    b = Hopfield(30, "pseudoinverse").store(2 * binary - 1)
    assert torch.equal(a.weights, b.weights) and torch.equal(a.patterns, b.patterns)
    assert torch.equal(a.recall(binary, seed=0).states, b.patterns)


def test_energy_and_stability_agree_with_numpy():
    patterns = bipolar(6, 40, 2)
    memory = Hopfield(40, "pseudoinverse", desaturation=0.2, dtype=torch.float64).store(patterns)
    w = memory.weights.numpy()
    probes = bipolar(4, 40, 3)
    expected = [-0.5 * s @ w @ s for s in probes.double().numpy()]
    np.testing.assert_allclose(memory.energy(probes).numpy(), expected, atol=1e-10)
    stable = [bool(np.all(np.sign(w @ s) * s >= 0)) for s in probes.double().numpy()]
    assert memory.is_stable(probes).tolist() == stable
    assert bool(memory.is_stable().all())  # the stored patterns


def test_async_recall_is_reproducible_from_a_seed():
    memory = Hopfield(100).store(bipolar(20, 100, 4))  # load 0.2: above capacity, the orders matter
    probes = bipolar(10, 100, 5)
    a, b = memory.recall(probes, seed=7), memory.recall(probes, seed=7)
    assert torch.equal(a.states, b.states) and torch.equal(a.steps, b.steps)
    generator = torch.Generator().manual_seed(7)
    assert torch.equal(memory.recall(probes, generator=generator).states, a.states)


def test_thousands_of_units():
    n = 2000
    patterns = bipolar(150, n, 6)
    memory = Hopfield(n, "pseudoinverse", desaturation=0.2).store(patterns[:100]).store(patterns[100:])
    assert memory.rank == 150 and memory.load == pytest.approx(0.075)
    noisy = flip_bits(patterns[:20], 0.1, generator=torch.Generator().manual_seed(0))
    assert torch.equal(memory.recall(noisy, seed=0).states, patterns[:20])


def test_state_dict_round_trip(tmp_path):
    memory = Hopfield(30, "pseudoinverse", desaturation=0.3).store(bipolar(5, 30, 7))
    torch.save(memory.state_dict(), tmp_path / "memory.pt")
    again = Hopfield.from_state_dict(torch.load(tmp_path / "memory.pt", weights_only=True))
    assert torch.equal(again.weights, memory.weights) and again.rank == 5 and repr(again) == repr(memory)
    state = memory.state_dict()
    state["raw"] = torch.zeros(3, 3)
    with pytest.raises(
        ValueError, match=r"n = 30 units needs raw weights \(30, 30\) and patterns \(M, 30\), got \(3, 3\)"
    ):
        Hopfield.from_state_dict(state)
    with pytest.raises(ValueError, match="needs the keys rank"):
        Hopfield.from_state_dict({k: v for k, v in memory.state_dict().items() if k != "rank"})


def test_clear_forgets():
    memory = Hopfield(10).store(bipolar(2, 10, 8)).clear()
    assert memory.patterns.shape == (0, 10) and not bool(memory.weights.any())


@pytest.mark.gpu
@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")
def test_recall_on_gpu_matches_cpu_fixed_points():
    patterns = bipolar(30, 500, 9)
    memory = Hopfield(500, "pseudoinverse", desaturation=0.2, device="cuda").store(patterns)
    noisy = flip_bits(patterns, 0.1, generator=torch.Generator().manual_seed(0))
    result = memory.recall(noisy, seed=0)
    assert torch.equal(result.states.cpu(), patterns) and bool(memory.is_stable().all())


# ---- bad input ----


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"rule": "hebian"}, "`rule` must be one of 'hebbian', 'pseudoinverse', got 'hebian'; did you mean 'hebbian'?"),
        ({"desaturation": 0.0}, "`desaturation` must be a number k in (0, 1]"),
        ({"desaturation": 1.5}, "got 1.5"),
        ({"desaturation": -0.1}, "got -0.1"),
        ({"desaturation": True}, "got True"),
    ],
)
def test_bad_constructor_arguments(kwargs, message):
    with pytest.raises(ValueError) as err:
        Hopfield(10, **kwargs)
    assert message in str(err.value)


def test_bad_unit_count():
    with pytest.raises(ValueError, match=r"`n` must be a positive integer \(the number of units\), got 0"):
        Hopfield(0)


def test_patterns_of_the_wrong_length_name_the_row():
    memory = Hopfield(4)
    with pytest.raises(ShapeError, match=r"patterns row 1 has 3 values, expected 4 \(one per unit\)"):
        memory.store([[1, -1, 1, 1], [1, 1, -1], [1, 1, 1, 1]])
    with pytest.raises(ShapeError, match=r"patterns have 5 values per row, expected 4"):
        memory.store(torch.ones(2, 5))
    with pytest.raises(ShapeError, match=r"probes have 3 values per row, expected 4"):
        memory.recall(torch.ones(2, 3))


def test_values_that_are_neither_bipolar_nor_binary_name_the_row():
    memory = Hopfield(3)
    with pytest.raises(PatternError, match=r"patterns row 2 holds 0.5; expected bipolar \(-1, \+1\) or binary"):
        memory.store([[1, -1, 1], [1, 1, -1], [1, 0.5, 1]])
    with pytest.raises(PatternError, match=r"patterns row 1 holds 0; expected bipolar values -1 and \+1 \(other rows"):
        memory.store([[1, -1, 1], [1, 0, 1]])  # a 0 among bipolar rows
    with pytest.raises(PatternError, match="patterns row 0 holds a value that is not finite"):
        memory.store([[1, float("nan"), 1]])
    assert memory.patterns.shape == (0, 3)  # nothing was half-stored


def test_more_patterns_than_units_for_the_pseudoinverse_rule_names_the_limit():
    memory = Hopfield(8, "pseudoinverse").store(bipolar(6, 8, 0))
    with pytest.raises(PatternError, match=r"stores at most n = 8 patterns \(one per unit\): 6 stored, 3 more given"):
        memory.store(bipolar(3, 8, 1))
    assert memory.patterns.shape == (6, 8)
    Hopfield(8, "hebbian").store(bipolar(12, 8, 2))  # no limit for Hebbian storage


def test_bad_recall_arguments():
    memory = Hopfield(5).store(bipolar(1, 5, 0))
    with pytest.raises(ValueError, match="`mode` must be one of 'async', 'sync', got 'snyc'; did you mean 'sync'?"):
        memory.recall(torch.ones(5), mode="snyc")
    with pytest.raises(ValueError, match="`max_steps` must be a positive integer, got 0"):
        memory.recall(torch.ones(5), max_steps=0)
    with pytest.raises(ValueError, match="give `seed` or `generator`, not both"):
        memory.recall(torch.ones(5), seed=1, generator=torch.Generator())
