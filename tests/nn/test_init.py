"""Initializers against their closed-form variances (large tensors; tolerances from the sampling error)."""

from __future__ import annotations

import math

import pytest
import torch

from lamina.registry import resolve

FAN_IN, FAN_OUT = 400, 300


@pytest.mark.parametrize(
    "name, variance",
    [
        ("glorot_uniform", 2 / (FAN_IN + FAN_OUT)),
        ("glorot_normal", 2 / (FAN_IN + FAN_OUT)),
        ("he_normal", 2 / FAN_IN),
        ("he_uniform", 2 / FAN_IN),
        ("lecun_normal", 1 / FAN_IN),
        ("lecun_uniform", 1 / FAN_IN),
    ],
)
def test_variance_scaling(name, variance):
    torch.manual_seed(0)
    w = torch.empty(FAN_OUT, FAN_IN)
    resolve("initializer", name).fill(w)
    n = w.numel()
    # the sample variance of n draws has relative standard error ~ sqrt(2/n) (normal) or less (uniform)
    assert abs(w.var().item() / variance - 1) < 6 * math.sqrt(2 / n)
    assert abs(w.mean().item()) < 6 * math.sqrt(variance / n)
    if "uniform" in name:
        assert w.abs().max().item() <= math.sqrt(3 * variance) + 1e-7


def test_convolution_fans_count_the_receptive_field():
    torch.manual_seed(0)
    w = torch.empty(64, 16, 5, 5)  # fan_in = 16 * 25
    resolve("initializer", "he_normal").fill(w)
    assert abs(w.var().item() / (2 / (16 * 25)) - 1) < 0.05


def test_orthogonal_rows_are_orthonormal_times_gain():
    w = torch.empty(50, 80)
    resolve("initializer", {"type": "orthogonal", "gain": 2.0}).fill(w)
    torch.testing.assert_close(w @ w.T, 4.0 * torch.eye(50), atol=1e-4, rtol=0)


def test_constant_and_zeros():
    w = torch.empty(3, 4)
    resolve("initializer", {"type": "constant", "value": 0.25}).fill(w)
    assert torch.equal(w, torch.full((3, 4), 0.25))
    resolve("initializer", "zeros").fill(w)
    assert torch.equal(w, torch.zeros(3, 4))


def test_dense_init_option_reaches_the_weights():
    spec = resolve(
        "layer",
        {
            "type": "dense",
            "units": 3,
            "init": {"type": "constant", "value": 0.5},
            "bias_init": {"type": "constant", "value": -1.0},
        },
    )
    layer = spec.build((4,))
    assert torch.equal(layer.weight, torch.full((3, 4), 0.5)) and torch.equal(layer.bias, torch.full((3,), -1.0))


def test_recurrent_init_is_per_gate():
    spec = resolve("layer", {"type": "lstm", "units": 6, "recurrent_init": "orthogonal"})
    rnn = spec.build((5, 3)).rnn
    for gate in rnn.weight_hh_l0.detach().chunk(4):
        torch.testing.assert_close(gate @ gate.T, torch.eye(6), atol=1e-5, rtol=0)
