"""HopfieldMemory: recall of stored patterns from corrupted probes (below capacity, and failing above it), the
weights against their closed forms, alphabets, incremental storage, per-probe determinism, pickling, bad input."""

from __future__ import annotations

import pickle
import re

import numpy as np
import pytest
from sklearn.exceptions import NotFittedError

from lamina.memory import PatternError
from lamina.sklearn import HopfieldMemory

N = 100


def _patterns(m: int, seed: int = 0) -> np.ndarray:
    return np.random.RandomState(seed).choice([-1, 1], size=(m, N))


def _corrupt(patterns: np.ndarray, fraction: float, seed: int = 1) -> np.ndarray:
    """Copies with exactly ``fraction * N`` bits of each row flipped."""
    rng, noisy = np.random.RandomState(seed), patterns.copy()
    for row in noisy:
        row[rng.choice(N, int(fraction * N), replace=False)] *= -1
    return noisy


@pytest.mark.parametrize("mode", ["async", "sync"])
def test_recalls_stored_patterns_from_corrupted_probes(mode):
    """Below Hebbian capacity (8 patterns on 100 units, load 0.08 < 0.138), probes with 10% of their bits flipped
    fall back into the pattern they came from."""
    patterns = _patterns(8)
    memory = HopfieldMemory(mode=mode, random_state=0).fit(patterns)
    probes = np.repeat(patterns, 5, axis=0)
    noisy = _corrupt(probes, 0.1)
    assert (noisy != probes).sum(axis=1).min() == 10
    assert memory.score(noisy, probes) == 1.0
    np.testing.assert_array_equal(memory.predict(noisy), probes)


def test_above_capacity_the_hebbian_rule_fails_and_the_pseudo_inverse_holds():
    """40 patterns on 100 units (load 0.4): far beyond the Hebbian rule's 0.138 N, within the desaturated
    pseudo-inverse rule's ~0.7 N (Gorodnichy & Reznik, 1997)."""
    patterns = _patterns(40)
    noisy = _corrupt(patterns, 0.05)
    hebbian = HopfieldMemory(random_state=0).fit(patterns)
    assert hebbian.score(patterns) < 0.2 and hebbian.score(noisy, patterns) < 0.2
    projection = HopfieldMemory("pseudoinverse", desaturation=0.15, random_state=0).fit(patterns)
    assert projection.score(patterns) == 1.0  # every stored pattern is a fixed point
    assert projection.score(noisy, patterns) > 0.9


def test_weights_are_the_closed_forms():
    patterns = _patterns(10)
    hebbian = HopfieldMemory().fit(patterns).weights_
    expected = patterns.T @ patterns / N
    np.fill_diagonal(expected, 0)
    np.testing.assert_allclose(hebbian, expected, atol=1e-6)
    projection = HopfieldMemory("pseudo_inverse").fit(patterns).weights_  # the spelling of issue 12 is accepted
    np.testing.assert_allclose(projection, np.linalg.pinv(patterns) @ patterns, atol=1e-5)


def test_binary_patterns_come_back_binary_and_storage_adds_up():
    patterns = (_patterns(6) + 1) // 2  # 0/1
    memory = HopfieldMemory(random_state=0).partial_fit(patterns[:3]).partial_fit(patterns[3:])
    assert memory.alphabet_ == "binary" and set(np.unique(memory.predict(patterns))) == {0, 1}
    np.testing.assert_array_equal(memory.patterns_, patterns)
    np.testing.assert_allclose(memory.weights_, HopfieldMemory().fit(patterns).weights_, atol=1e-6)
    assert HopfieldMemory().fit(_patterns(2)).alphabet_ == "bipolar"


def test_a_probes_recall_does_not_depend_on_the_rows_beside_it():
    patterns = _patterns(12)
    noisy = _corrupt(np.repeat(patterns, 3, axis=0), 0.2)
    memory = HopfieldMemory(random_state=3).fit(patterns)
    full = memory.predict(noisy)
    np.testing.assert_array_equal(memory.predict(noisy[7:9]), full[7:9])
    np.testing.assert_array_equal(memory.predict(noisy[::-1]), full[::-1])
    np.testing.assert_array_equal(HopfieldMemory(random_state=3).fit(patterns).predict(noisy), full)


def test_binarize_and_pickle():
    rng = np.random.RandomState(0)
    real = rng.randn(5, N)
    memory = HopfieldMemory(binarize=0.0, random_state=0).fit(real)
    np.testing.assert_array_equal(memory.patterns_, (real > 0).astype(int))
    copy = pickle.loads(pickle.dumps(memory))
    probes = rng.randn(20, N)
    np.testing.assert_array_equal(copy.predict(probes), memory.predict(probes))
    assert "memory_" not in memory.__getstate__() and copy.memory_.patterns.shape == (5, N)


def test_bad_input_is_named():
    with pytest.raises(PatternError, match=re.escape("patterns row 0 holds")):
        HopfieldMemory().fit(np.random.RandomState(0).randn(3, 10))
    with pytest.raises(PatternError, match="the pseudo-inverse rule stores at most n = 10 patterns"):
        HopfieldMemory("pseudoinverse").fit(np.random.RandomState(0).choice([-1, 1], size=(11, 10)))
    with pytest.raises(
        ValueError,
        match=re.escape(
            "`rule` must be one of 'hebbian', 'pseudoinverse', 'pseudo_inverse', got 'hebian'; did you mean 'hebbian'?"
        ),
    ):
        HopfieldMemory("hebian").fit(_patterns(2))
    with pytest.raises(NotFittedError):
        HopfieldMemory().predict(_patterns(2))
    memory = HopfieldMemory().fit(_patterns(2))
    with pytest.raises(ValueError, match="X has 10 features, but HopfieldMemory is expecting 100 features"):
        memory.predict(np.ones((2, 10)))
    with pytest.raises(
        ValueError, match=re.escape("`y` must be the patterns the probes should recall, shape (2, 100)")
    ):
        memory.score(_patterns(2), np.arange(2))
