"""Corruptions do what they claim: the measured fraction of corrupted inputs is the level asked for, the chosen
inputs are spread uniformly, salt and pepper are equally likely, and Gaussian noise has the stated spread."""

from __future__ import annotations

import math

import pytest
import torch

from lamina.generative import corrupt
from lamina.generative.autoencoders.corruption import choose_inputs


@pytest.mark.parametrize("level", [0.0, 0.1, 0.25, 0.5, 1.0])
def test_masking_destroys_exactly_the_level_of_each_example(level):
    x = torch.rand(500, 784) * 0.9 + 0.1  # no zeros before masking
    out = corrupt(x, "masking", level, generator=torch.Generator().manual_seed(0))
    zeroed = (out == 0).sum(dim=1)
    assert torch.all(zeroed == round(level * 784))
    kept = out != 0
    assert torch.equal(out[kept], x[kept])  # the rest is untouched


def test_the_chosen_inputs_are_uniform_over_positions():
    # each of 20 positions is chosen with probability 0.3 per example; over 20,000 examples the counts are
    # Binomial(20000, 0.3): mean 6000, sd 64.8; 5 sd either side
    mask = choose_inputs((20000, 20), 0.3, generator=torch.Generator().manual_seed(1))
    counts = mask.sum(dim=0).float()
    sd = math.sqrt(20000 * 0.3 * 0.7)
    assert torch.all((counts - 6000).abs() < 5 * sd)


def test_salt_and_pepper_sets_the_level_to_zero_or_one_by_a_fair_coin():
    x = torch.full((2000, 100), 0.5)
    out = corrupt(x, "salt_and_pepper", 0.2, generator=torch.Generator().manual_seed(2))
    changed = out != 0.5
    assert torch.all(changed.sum(dim=1) == 20)
    values = out[changed]
    assert set(values.unique().tolist()) == {0.0, 1.0}
    n, ones = values.numel(), int((values == 1).sum())
    assert abs(ones - n / 2) < 5 * math.sqrt(n / 4)  # Binomial(n, 1/2), 5 sd


@pytest.mark.parametrize("level", [0.1, 0.5, 2.0])
def test_gaussian_noise_has_the_level_as_standard_deviation(level):
    x = torch.rand(400, 250, dtype=torch.float64)
    noise = corrupt(x, "gaussian", level, generator=torch.Generator().manual_seed(3)) - x
    n = noise.numel()
    # the sample sd of n normals is within 5 * sd/sqrt(2n) of sd; the mean within 5 * sd/sqrt(n) of 0
    assert abs(float(noise.std()) - level) < 5 * level / math.sqrt(2 * n)
    assert abs(float(noise.mean())) < 5 * level / math.sqrt(n)


def test_same_generator_state_same_corruption():
    x = torch.rand(10, 30)
    a = corrupt(x, "masking", 0.4, generator=torch.Generator().manual_seed(7))
    b = corrupt(x, "masking", 0.4, generator=torch.Generator().manual_seed(7))
    assert torch.equal(a, b)


def test_bad_corruption_arguments_are_refused():
    x = torch.rand(2, 3)
    with pytest.raises(ValueError, match=r"`kind` must be one of 'masking', 'salt_and_pepper', 'gaussian', got 'mask'"):
        corrupt(x, "mask", 0.1)
    with pytest.raises(ValueError, match=r"fraction of inputs corrupted\) must be in \[0, 1\], got 1.5"):
        corrupt(x, "salt_and_pepper", 1.5)
    with pytest.raises(ValueError, match=r"standard deviation\) must be >= 0, got -0.1"):
        corrupt(x, "gaussian", -0.1)
