"""jacobian_spectrum: exact isometry of deep orthogonal linear nets, closed-form Jacobians of tanh layers, finite
differences for a convolution, and bad input."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from torch import nn

import lamina
from lamina.diagnostics import DiagnosticsError, jacobian_spectrum, per_example_jacobian


def test_deep_linear_network_with_orthogonal_weights_is_an_exact_isometry():
    torch.manual_seed(0)
    layers = [{"type": "dense", "units": 12, "init": "orthogonal"} for _ in range(10)]
    model = lamina.build_model(layers, (12,)).double()
    for linear in model:  # orthogonal to float64 precision, not just float32's
        nn.init.orthogonal_(linear.weight)
    spectrum = jacobian_spectrum(model, torch.randn(5, 12, dtype=torch.float64))
    assert len(spectrum.layers) == 10 and spectrum.n_inputs == 5
    for row in spectrum.layers:
        assert row.layer.shape == row.product.shape == (5, 12)
        np.testing.assert_allclose(row.layer.numpy(), 1.0, atol=1e-12)
        np.testing.assert_allclose(row.product.numpy(), 1.0, atol=1e-12)
    assert spectrum.layers[-1].summary()["product_condition"] == pytest.approx(1.0, abs=1e-12)


def test_tanh_layers_match_the_closed_form_jacobian():
    torch.manual_seed(1)
    model = lamina.build_model(
        [
            {"type": "dense", "units": 6, "activation": "tanh"},
            {"type": "dense", "units": 4, "activation": "tanh"},
            {"type": "dense", "units": 3},
        ],
        (5,),
    ).double()
    x = torch.randn(7, 5, dtype=torch.float64)
    spectrum = jacobian_spectrum(model, x)
    linears = [m for m in model.modules() if isinstance(m, nn.Linear)]
    for n in range(len(x)):
        h, product = x[n].numpy(), np.eye(5)
        for i, (lin, row) in enumerate(zip(linears, spectrum.layers)):
            W, b = lin.weight.detach().numpy(), lin.bias.detach().numpy()
            z = W @ h + b
            last = i == len(linears) - 1
            J = W if last else (1 - np.tanh(z) ** 2)[:, None] * W  # diag(f'(z)) W
            h = z if last else np.tanh(z)
            product = J @ product
            np.testing.assert_allclose(row.layer[n].numpy(), np.linalg.svd(J, compute_uv=False), rtol=1e-10)
            np.testing.assert_allclose(row.product[n].numpy(), np.linalg.svd(product, compute_uv=False), rtol=1e-9)


def test_convolution_jacobian_matches_finite_differences_and_reshapes_are_folded():
    torch.manual_seed(2)
    model = lamina.build_model(
        [
            {"type": "conv2d", "filters": 2, "kernel_size": 2, "activation": "relu"},
            {"type": "flatten"},
            {"type": "dropout", "p": 0.5},
            {"type": "dense", "units": 3},
        ],
        (1, 4, 4),
    ).double()
    model.train()
    x = torch.randn(2, 1, 4, 4, dtype=torch.float64)
    spectrum = jacobian_spectrum(model, x)
    assert model.training  # the mode is restored
    assert [r.name for r in spectrum.layers] == ["conv2d_0", "dense_3"]  # flatten and dropout: no row
    block, eps = model[0], 1e-6
    for n in range(2):
        numeric = np.zeros((18, 16))
        for j in range(16):
            e = torch.zeros(16, dtype=torch.float64)
            e[j] = eps
            plus = block((x[n].flatten() + e).reshape(1, 1, 4, 4)).flatten()
            minus = block((x[n].flatten() - e).reshape(1, 1, 4, 4)).flatten()
            numeric[:, j] = ((plus - minus) / (2 * eps)).detach().numpy()
        analytic = per_example_jacobian(block, x[n : n + 1])[0].numpy()
        np.testing.assert_allclose(analytic, numeric, atol=1e-8)
        np.testing.assert_allclose(
            spectrum.layers[0].layer[n].numpy()[:16], np.linalg.svd(numeric, compute_uv=False), atol=1e-7
        )


def test_table_and_plots(tmp_path):
    torch.manual_seed(0)
    model = lamina.build_model(
        [{"type": "dense", "units": 8, "activation": "sigmoid"} for _ in range(3)] + [{"type": "dense", "units": 2}],
        (8,),
    )
    spectrum = jacobian_spectrum(model, torch.randn(20, 8), max_inputs=6)
    assert spectrum.n_inputs == 6 and "sigma(J_l...J_1)" in spectrum.table()
    # sigmoid: every singular value of J_l is at most max f' * ||W||_2 = ||W||_2 / 4
    for row, lin in zip(spectrum.layers[:3], [m for m in model.modules() if isinstance(m, nn.Linear)]):
        assert float(row.layer.max()) <= 0.25 * torch.linalg.matrix_norm(lin.weight.detach(), ord=2).item() + 1e-6
    paths = spectrum.plot(tmp_path, title="test")
    assert [p.name for p in paths] == ["jacobian_product_spectrum.png", "jacobian_layer_spectra.png"]
    assert all(p.stat().st_size > 10_000 for p in paths)


def test_bad_input():
    graph = lamina.build_model(
        {
            "inputs": ["x"],
            "nodes": [
                {"name": "a", "type": "dense", "units": 2, "inputs": ["x"]},
                {"name": "b", "type": "dense", "units": 2},
            ],
        },
        (3,),
    )
    with pytest.raises(DiagnosticsError, match="needs a chain of layers"):
        jacobian_spectrum(graph, torch.randn(2, 3))
    with pytest.raises(DiagnosticsError, match="jacobian_spectrum needs a model with trainable parameters"):
        jacobian_spectrum(nn.Sequential(nn.Tanh()), torch.randn(2, 3))
    model = lamina.build_model([{"type": "dense", "units": 2}], (3,))
    with pytest.raises(
        lamina.ShapeError,
        match=r"expects inputs of shape \(N, 3\) \(one example: \(3,\)\), got a batch "
        r"of shape \(2, 5\)",
    ):
        jacobian_spectrum(model, torch.randn(2, 5))
    big = lamina.build_model([{"type": "dense", "units": 3000}], (3000,))
    with pytest.raises(DiagnosticsError, match=r"layer 'dense_0': one example's Jacobian would hold 3000 x 3000"):
        jacobian_spectrum(big, torch.randn(1, 3000))
