"""DropConnect's and DropPath's masks: the stated rate, expectation-preserving scaling; gradchecks."""

from __future__ import annotations

import math

import pytest
import torch

import lamina
from lamina.nn.drop_path import DropPath, drop_path, drop_path_mask
from lamina.nn.dropconnect import DropConnect, dropconnect_gaussian, dropconnect_linear, dropconnect_mask
from tests.nn.gradcheck_util import gradcheck_module


def _within_binomial(k: int, n: int, p: float, sigmas: float = 5.0) -> bool:
    return abs(k - n * p) <= sigmas * math.sqrt(n * p * (1 - p))


@pytest.mark.parametrize("p", [0.1, 0.5, 0.8])
def test_dropconnect_mask_drops_at_the_stated_rate(p):
    mask = dropconnect_mask((400, 500), p, generator=torch.Generator().manual_seed(0))
    assert set(mask.unique().tolist()) <= {0.0, 1.0}
    assert _within_binomial(int((mask == 0).sum()), mask.numel(), p)


def test_dropconnect_output_is_unbiased_over_masks():
    g = torch.Generator().manual_seed(0)
    x = torch.randn(3, 6, dtype=torch.float64, generator=g)
    w = torch.randn(4, 6, dtype=torch.float64, generator=g)
    b = torch.randn(4, dtype=torch.float64, generator=g)
    p, draws = 0.5, 20000
    masks = dropconnect_mask((draws, 3, 4, 6), p, dtype=torch.float64, generator=g)  # per example and draw
    outs = torch.stack([dropconnect_linear(x, w, b, m, p) for m in masks[:4000]])
    # one draw has variance p/(1-p) sum_j (w x)^2 per unit; the mean of 4000 draws is within 5 standard errors
    se = torch.sqrt(p / (1 - p) * (x.pow(2) @ w.pow(2).T) / 4000)
    assert ((outs.mean(0) - (x @ w.T + b)).abs() <= 5 * se).all()


def test_dropconnect_per_batch_mask_equals_a_linear_layer_on_the_masked_weights():
    x, w, b = torch.randn(5, 3), torch.randn(2, 3), torch.randn(2)
    mask = dropconnect_mask((2, 3), 0.3, generator=torch.Generator().manual_seed(1))
    torch.testing.assert_close(dropconnect_linear(x, w, b, mask, 0.3), x @ (w * mask / 0.7).T + b)


def test_dropconnect_eval_is_the_mean_network_and_training_is_random():
    torch.manual_seed(0)
    layer = DropConnect(6, 4, p=0.5)
    x = torch.randn(8, 6)
    layer.eval()
    torch.testing.assert_close(layer(x), torch.nn.functional.linear(x, layer.weight, layer.bias))
    layer.train()
    assert not torch.equal(layer(x), layer(x))


def test_gaussian_inference_matches_monte_carlo_dropconnect():
    """Wan et al.'s moment matching against the average of the activation over real masks."""
    g = torch.Generator().manual_seed(3)
    x = torch.randn(2, 40, dtype=torch.float64, generator=g)
    w = torch.randn(3, 40, dtype=torch.float64, generator=g) / 6
    b = torch.zeros(3, dtype=torch.float64)
    p = 0.5
    masks = dropconnect_mask((20000, 3, 40), p, dtype=torch.float64, generator=g)
    mc = torch.relu(torch.einsum("soi,ni->sno", w * masks / (1 - p), x) + b).mean(0)  # over 20000 real masks
    gauss = dropconnect_gaussian(x, w, b, p, torch.nn.ReLU(), samples=20000, generator=g)
    torch.testing.assert_close(gauss, mc, atol=0.02, rtol=0.03)  # a sum of 40 masked terms is close to Gaussian
    assert (mc - torch.relu(x @ w.T)).abs().max() > 0.05  # and differs from the mean network


def test_dropconnect_gradcheck_with_a_fixed_mask():
    layer = DropConnect(4, 3, p=0.4, activation=torch.nn.Tanh(), per_example=True)
    assert gradcheck_module(layer, torch.randn(5, 4), reseed=0)


@pytest.mark.parametrize("p", [0.2, 0.5])
def test_drop_path_mask_rate_and_scaling(p):
    mask = drop_path_mask(100000, p, generator=torch.Generator().manual_seed(0))
    assert set(mask.unique().tolist()) == {0.0, 1 / (1 - p)}
    assert _within_binomial(int((mask == 0).sum()), len(mask), p)
    assert abs(float(mask.mean()) - 1.0) < 5 * math.sqrt(p / (1 - p) / len(mask))  # E[mask] = 1


def test_drop_path_drops_whole_examples_and_is_the_identity_in_eval():
    x = torch.randn(64, 3, 4, 4)
    y = drop_path(x, 0.5, generator=torch.Generator().manual_seed(0))
    for xi, yi in zip(x, y):
        assert torch.equal(yi, torch.zeros_like(xi)) or torch.allclose(yi, 2 * xi)
    layer = DropPath(0.5).eval()
    assert layer(x) is x


def test_residual_drop_path_keeps_the_shortcut():
    block = lamina.build_model(
        [{"type": "residual", "layers": [{"type": "dense", "units": 4}], "drop_path": 0.5, "activation": "identity"}],
        (4,),
    )
    res = block[0]
    res.drop_path.generator = torch.Generator().manual_seed(0)
    x = torch.randn(200, 4)
    y = res(x)
    branch = res.branch(x)
    dropped = torch.isclose(y, x).all(dim=1)
    kept = torch.isclose(y, x + 2 * branch).all(dim=1)
    assert (dropped | kept).all() and 60 < int(dropped.sum()) < 140


def test_drop_path_layer_gradcheck():
    assert gradcheck_module(DropPath(0.5), torch.randn(6, 3), reseed=2)


def test_drop_path_gradcheck():
    block = lamina.build_model(
        [{"type": "residual", "layers": [{"type": "dense", "units": 3, "activation": "tanh"}], "drop_path": 0.5}], (3,)
    )
    assert gradcheck_module(block, torch.randn(6, 3), reseed=1)
