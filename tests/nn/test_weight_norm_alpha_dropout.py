"""Weight norm keeps ||w|| = g; alpha dropout keeps SELU's moments; instance norm against its formula."""

from __future__ import annotations

import pytest
import torch

import lamina
from lamina.data import ArrayDataset
from lamina.nn.alpha_dropout import AlphaDropout, alpha_dropout
from lamina.nn.weight_norm import apply_weight_norm, unit_norms
from tests.nn.gradcheck_util import gradcheck_module


@pytest.mark.parametrize(
    "layer, shape",
    [({"type": "dense", "units": 7}, (5,)), ({"type": "conv2d", "filters": 3, "kernel_size": 3}, (2, 6, 6))],
)
def test_weight_norm_keeps_the_norm_equal_to_g_through_training(layer, shape):
    torch.manual_seed(0)
    model = lamina.build_model(
        [{**layer, "weight_norm": True}, {"type": "flatten"}, {"type": "dense", "units": 2}], shape
    )
    inner = model[0]
    wn = inner.parametrizations.weight
    torch.testing.assert_close(wn[0].g, unit_norms(wn.original).flatten())  # starts at the initial norms
    data = ArrayDataset(torch.randn(64, *shape), torch.randint(0, 2, (64,)))
    lamina.Trainer(model, optimizer={"type": "sgd", "lr": 0.5}, epochs=3, batch_size=16, seed=0).fit(data)
    g = wn[0].g.detach()
    assert not torch.allclose(g, unit_norms(wn.original.detach()).flatten())  # g and ||v|| moved apart
    torch.testing.assert_close(unit_norms(inner.weight.detach()).flatten(), g)  # and still ||w_i|| = g_i


def test_weight_norm_does_not_change_the_initial_function_and_counts_g():
    torch.manual_seed(0)
    plain = lamina.build_model([{"type": "dense", "units": 4, "init": "he"}], (3,))
    torch.manual_seed(0)
    normed = lamina.build_model([{"type": "dense", "units": 4, "init": "he", "weight_norm": True}], (3,))
    x = torch.randn(5, 3)
    torch.testing.assert_close(normed(x), plain(x))
    assert lamina.nn.count_parameters(normed) == 3 * 4 + 4 + 4  # v, bias and one g per unit


def test_weight_norm_gradient_of_v_is_orthogonal_to_w():
    """Salimans & Kingma (2016), eq. 4: grad_v = (g / ||v||) (I - w w^T / ||w||^2) grad_w, orthogonal to w."""
    lin = apply_weight_norm(torch.nn.Linear(6, 3).double())
    lin(torch.randn(8, 6, dtype=torch.float64)).pow(2).sum().backward()
    v_grad = lin.parametrizations.weight.original.grad
    w = lin.weight.detach()
    torch.testing.assert_close((v_grad * w).sum(dim=1), torch.zeros(3, dtype=torch.float64), atol=1e-12, rtol=0)


def test_weight_norm_gradcheck():
    assert gradcheck_module(apply_weight_norm(torch.nn.Conv1d(2, 3, 3)), torch.randn(2, 2, 7))


def test_weight_norm_refuses_a_bias_vector():
    with pytest.raises(ValueError, match="2 or more dimensions"):
        apply_weight_norm(torch.nn.Linear(3, 2), "bias")


@pytest.mark.parametrize("p", [0.05, 0.1, 0.3])
def test_alpha_dropout_keeps_zero_mean_and_unit_variance(p):
    g = torch.Generator().manual_seed(0)
    x = torch.randn(400000, dtype=torch.float64, generator=g)
    y = alpha_dropout(x, p, generator=g)
    assert abs(float(y.mean())) < 0.01 and abs(float(y.var()) - 1.0) < 0.01
    saturation = -1.0507009873554805 * 1.6732632423543772  # SELU's -lambda alpha
    q = 1 - p
    a = (q + saturation**2 * q * p) ** -0.5  # Klambauer et al. (2017), section "New dropout technique"
    dropped = a * saturation - a * p * saturation  # a alpha' + b, every dropped unit's value
    assert float(torch.isclose(y, torch.full_like(y, dropped)).double().mean()) == pytest.approx(p, abs=0.003)
    kept = ~torch.isclose(y, torch.full_like(y, dropped))
    torch.testing.assert_close(y[kept], a * x[kept] + (-a * p * saturation))  # kept units: a x + b


def test_alpha_dropout_in_a_selu_network_keeps_the_moments_of_the_activations():
    torch.manual_seed(0)
    layers = []
    for _ in range(8):
        layers += [
            {"type": "dense", "units": 256, "activation": "selu", "init": "lecun_normal"},
            {"type": "alpha_dropout", "p": 0.1},
        ]
    model = lamina.build_model(layers, (256,)).train()
    with torch.no_grad():
        h = model(torch.randn(2000, 256))
    assert abs(float(h.mean())) < 0.1 and abs(float(h.std()) - 1.0) < 0.1


def test_alpha_dropout_is_the_identity_in_eval_and_gradchecks():
    x = torch.randn(4, 5)
    assert AlphaDropout(0.2).eval()(x) is x
    assert gradcheck_module(AlphaDropout(0.3), torch.randn(4, 5), reseed=0)


def test_instance_norm_normalises_each_channel_of_each_example():
    model = lamina.build_model([{"type": "instancenorm", "affine": False}], (3, 5, 6)).double()
    x = torch.randn(4, 3, 5, 6, dtype=torch.float64) * 3 + 2
    mean = x.mean(dim=(2, 3), keepdim=True)
    var = x.var(dim=(2, 3), keepdim=True, unbiased=False)
    torch.testing.assert_close(model(x), (x - mean) / torch.sqrt(var + 1e-5))
    torch.testing.assert_close(model.eval()(x), (x - mean) / torch.sqrt(var + 1e-5))  # no running statistics


def test_layer_norm_normalises_each_example_over_its_last_dims_and_gradchecks():
    model = lamina.build_model([{"type": "layernorm", "dims": 2}], (3, 4)).double()
    x = torch.randn(5, 3, 4, dtype=torch.float64) * 2 - 1
    mean, var = x.mean(dim=(1, 2), keepdim=True), x.var(dim=(1, 2), keepdim=True, unbiased=False)
    torch.testing.assert_close(model(x), (x - mean) / torch.sqrt(var + 1e-5))  # Ba, Kiros & Hinton (2016), eq. 4
    assert gradcheck_module(model, torch.randn(2, 3, 4))
    assert gradcheck_module(lamina.build_model([{"type": "instancenorm"}], (2, 5)), torch.randn(3, 2, 5))


def test_instance_norm_refuses_vectors():
    with pytest.raises(lamina.ShapeError, match=r"instancenorm.*\(channels, length\) or \(channels, height, width\)"):
        lamina.build_model([{"type": "instancenorm"}], (8,))
