"""Maxout against the max over explicit linear pieces; highway against its formula; gradchecks."""

from __future__ import annotations

import numpy as np
import pytest
import torch

import lamina
from lamina.nn.highway import Highway
from lamina.nn.maxout import Maxout
from tests.nn.gradcheck_util import gradcheck_module


def test_maxout_is_the_max_over_explicit_linear_pieces():
    torch.manual_seed(0)
    layer = Maxout(6, units=4, pieces=3).double()
    x = torch.randn(5, 6, dtype=torch.float64)
    w = layer.linear.weight.detach().numpy()  # rows i * 3 + j: piece j of unit i
    b = layer.linear.bias.detach().numpy()
    pieces = [[x.numpy() @ w[i * 3 + j] + b[i * 3 + j] for j in range(3)] for i in range(4)]
    expected = np.stack([np.max(np.stack(unit), axis=0) for unit in pieces], axis=1)  # (5, 4)
    np.testing.assert_allclose(layer(x).detach().numpy(), expected, rtol=1e-12)


def test_maxout_with_two_pieces_can_be_relu_and_abs():
    layer = Maxout(1, units=2, pieces=2).double()
    with torch.no_grad():
        layer.linear.weight.copy_(torch.tensor([[1.0], [0.0], [1.0], [-1.0]]))  # unit 0: max(x, 0); unit 1: |x|
        layer.linear.bias.zero_()
    x = torch.linspace(-2, 2, 9, dtype=torch.float64).unsqueeze(1)
    torch.testing.assert_close(layer(x), torch.cat([x.relu(), x.abs()], dim=1))


def test_maxout_gradcheck():
    assert gradcheck_module(Maxout(4, units=3, pieces=2), torch.randn(5, 4))


def test_highway_follows_its_formula():
    torch.manual_seed(1)
    layer = Highway(5, torch.nn.Tanh(), gate_bias=-1.0).double()
    x = torch.randn(4, 5, dtype=torch.float64)
    h = torch.tanh(x @ layer.transform.weight.T + layer.transform.bias)
    t = 1 / (1 + torch.exp(-(x @ layer.gate.weight.T + layer.gate.bias)))
    torch.testing.assert_close(layer(x), h * t + x * (1 - t))


def test_highway_gate_bias_starts_near_the_identity():
    spec = lamina.resolve("layer", {"type": "highway", "gate_bias": -20.0})
    layer = spec.build((8,))
    assert torch.equal(layer.gate.bias.detach(), torch.full((8,), -20.0))
    x = torch.randn(3, 8)
    torch.testing.assert_close(layer(x), x, atol=1e-6, rtol=0)  # T = sigmoid(-20 + small) ~ 2e-9


def test_highway_gradcheck():
    assert gradcheck_module(Highway(4, torch.nn.Tanh()), torch.randn(3, 4))


@pytest.mark.parametrize("layer", ["highway", "maxout"])
def test_image_input_suggests_flatten(layer):
    options = {"units": 3} if layer == "maxout" else {}
    with pytest.raises(lamina.ShapeError, match=rf"model.layers\[0\] \({layer}\).*\(1, 4, 4\).*flatten"):
        lamina.build_model([{"type": layer, **options}], (1, 4, 4))
