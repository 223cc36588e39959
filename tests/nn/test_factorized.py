"""Low-rank and tensor-train dense layers (issue #27): TT-SVD against known matrices, the layers against F.linear
with their reconstructed dense weight (outputs and gradients), parameter counts against the closed forms, and the
experiment-file route through lamina.build_model."""

from __future__ import annotations

import math

import pytest
import torch
import torch.nn.functional as F

import lamina
from lamina.errors import ConfigError, ShapeError
from lamina.nn import LowRankLinear, ModelConfig, TTLinear, layer_shapes, tt_svd
from lamina.nn.tensor_train import tt_full, tt_ranks


def _tt_params(in_modes, out_modes, ranks):
    return sum(ranks[k] * in_modes[k] * out_modes[k] * ranks[k + 1] for k in range(len(in_modes)))


def _tt_matrix_by_loops(cores):
    """W[(o_1..o_d), (i_1..i_d)] = G_1[:, i_1, o_1, :] ... G_d[:, i_d, o_d, :], entry by entry (the definition)."""
    in_modes = [c.shape[1] for c in cores]
    out_modes = [c.shape[2] for c in cores]
    w = torch.empty(math.prod(out_modes), math.prod(in_modes), dtype=cores[0].dtype)
    for row, o in enumerate(torch.cartesian_prod(*[torch.arange(m) for m in out_modes]).reshape(-1, len(cores))):
        for col, i in enumerate(torch.cartesian_prod(*[torch.arange(m) for m in in_modes]).reshape(-1, len(cores))):
            product = torch.ones(1, 1, dtype=cores[0].dtype)
            for k, core in enumerate(cores):
                product = product @ core[:, i[k], o[k], :]
            w[row, col] = product[0, 0]
    return w


def test_the_reconstruction_follows_the_definition_entry_by_entry():
    torch.manual_seed(0)
    cores = [torch.randn(1, 2, 3, 2, dtype=torch.float64), torch.randn(2, 3, 2, 1, dtype=torch.float64)]
    assert torch.allclose(tt_full(cores), _tt_matrix_by_loops(cores), atol=1e-12)
    cores3 = [torch.randn(1, 2, 2, 2), torch.randn(2, 3, 1, 3), torch.randn(3, 2, 2, 1)]
    assert torch.allclose(tt_full(cores3), _tt_matrix_by_loops(cores3), atol=1e-5)


def test_tt_svd_with_full_ranks_reconstructs_a_random_matrix():
    torch.manual_seed(1)
    w = torch.randn(4 * 3 * 2, 2 * 3 * 4, dtype=torch.float64)
    cores = tt_svd(w, [2, 3, 4], [4, 3, 2])
    assert torch.allclose(tt_full(cores), w, atol=1e-5)


def test_tt_svd_recovers_a_low_rank_tensor_train_exactly_at_its_ranks():
    torch.manual_seed(2)
    in_modes, out_modes, ranks = [3, 4, 2, 3], [2, 3, 4, 2], [1, 2, 3, 2, 1]
    truth = [torch.randn(ranks[k], in_modes[k], out_modes[k], ranks[k + 1], dtype=torch.float64) for k in range(4)]
    w = tt_full(truth)
    cores = tt_svd(w, in_modes, out_modes, max_rank=3)
    assert [c.shape[3] for c in cores] == ranks[1:]  # the ranks it finds are the matrix's own
    assert torch.allclose(tt_full(cores), w, atol=1e-10)
    # one rank too few cannot hold it
    assert not torch.allclose(tt_full(tt_svd(w, in_modes, out_modes, max_rank=1)), w, atol=1e-3)


def test_tt_svd_names_a_shape_that_does_not_fit():
    with pytest.raises(ValueError, match=r"out_modes \[2, 2\] x in_modes \[3, 3\]"):
        tt_svd(torch.zeros(5, 9), [3, 3], [2, 2])


def test_tt_layer_equals_dense_with_its_full_weight_forward_and_gradients():
    torch.manual_seed(3)
    layer = TTLinear([2, 3, 4], [3, 2, 2], ranks=[1, 3, 4, 1]).double()
    with torch.no_grad():
        layer.bias.normal_()
    x = torch.randn(5, 24, dtype=torch.float64, requires_grad=True)
    target = torch.randn(5, 12, dtype=torch.float64)

    # the layer's own pass, which never forms W
    loss = (layer(x) - target).pow(2).sum()
    grads = torch.autograd.grad(loss, [x, *layer.cores, layer.bias])

    # the dense version: F.linear with the reconstructed W, differentiated by autograd through the reconstruction
    dense_loss = (F.linear(x, layer.full_weight(), layer.bias) - target).pow(2).sum()
    dense_grads = torch.autograd.grad(dense_loss, [x, *layer.cores, layer.bias])

    assert torch.allclose(loss, dense_loss, atol=1e-10)
    for g, h in zip(grads, dense_grads):
        assert torch.allclose(g, h, atol=1e-10)


def test_a_layer_built_from_tt_svd_cores_is_the_dense_layer():
    torch.manual_seed(4)
    dense = torch.nn.Linear(16, 12)
    layer = TTLinear.from_cores(tt_svd(dense.weight.detach(), [4, 4], [3, 4]), dense.bias.detach())
    x = torch.randn(7, 16)
    assert torch.allclose(layer(x), dense(x), atol=1e-5)


def test_tt_parameter_count_is_the_closed_form():
    layer = TTLinear([4, 8, 4, 8], [4, 8, 4, 8], ranks=8)
    cores = sum(c.numel() for c in layer.cores)
    assert cores == _tt_params([4, 8, 4, 8], [4, 8, 4, 8], [1, 8, 8, 8, 1]) == 4 * 4 * 8 + 64 * 64 + 8 * 16 * 8 + 64 * 8
    assert sum(p.numel() for p in layer.parameters()) == cores + 1024
    assert 1024 * 1024 / cores > 50  # the target: >= 50x fewer weights than dense in this layer
    mixed = TTLinear([2, 5, 3], [3, 2, 7], ranks=[1, 4, 2, 1], bias=False)
    assert sum(p.numel() for p in mixed.parameters()) == _tt_params([2, 5, 3], [3, 2, 7], [1, 4, 2, 1])


def test_tt_initialisation_gives_the_reconstructed_weight_glorot_variance():
    torch.manual_seed(5)
    layer = TTLinear([4, 8, 4, 8], [4, 8, 4, 8], ranks=8)
    variance = layer.full_weight().detach().var().item()
    assert variance == pytest.approx(2 / (1024 + 1024), rel=0.25)


def test_tt_ranks_from_an_int_and_the_errors():
    assert tt_ranks(5, 3) == [1, 5, 5, 1]
    assert tt_ranks([1, 2, 1], 2) == [1, 2, 1]
    with pytest.raises(ValueError, match="3 positive ints starting and ending with 1"):
        tt_ranks([2, 2, 1], 2)
    with pytest.raises(ValueError, match="same number"):
        TTLinear([2, 2], [4], ranks=2)


def test_low_rank_layer_equals_dense_with_u_times_v():
    torch.manual_seed(6)
    layer = LowRankLinear(9, 7, rank=3).double()
    with torch.no_grad():
        layer.bias.normal_()
    x = torch.randn(4, 9, dtype=torch.float64, requires_grad=True)
    dense = F.linear(x, layer.u @ layer.v, layer.bias)
    assert torch.allclose(layer(x), dense, atol=1e-12)
    assert torch.allclose(layer.full_weight(), layer.u @ layer.v)
    g = torch.autograd.grad(layer(x).sin().sum(), [x, layer.u, layer.v])
    h = torch.autograd.grad(dense.sin().sum(), [x, layer.u, layer.v])
    assert all(torch.allclose(a, b, atol=1e-12) for a, b in zip(g, h))
    assert sum(p.numel() for p in layer.parameters()) == 3 * (9 + 7) + 7
    assert torch.linalg.matrix_rank(layer.full_weight()).item() == 3


def test_low_rank_options_are_checked_in_python_as_in_a_file():
    with pytest.raises(ValueError, match="Invalid LowRankLinear: rank"):
        LowRankLinear(4, 3, rank=0)


def test_config_round_trip_through_build_model():
    table = {
        "layers": [
            {"type": "flatten"},
            {"type": "tt_dense", "in_modes": [4, 4, 4], "out_modes": [2, 4, 4], "ranks": 3, "activation": "relu"},
            {"type": "low_rank_dense", "units": 10, "rank": 4},
        ],
    }
    config = ModelConfig.model_validate(table)
    dumped = {"layers": [layer.to_config() for layer in config.layers]}  # the tables a saved run writes out
    again = ModelConfig.model_validate(dumped)
    assert again == config and [layer.to_config() for layer in again.layers] == dumped["layers"]
    assert layer_shapes(again, (1, 8, 8)) == [(64,), (32,), (10,)]

    model = lamina.build_model(again, input_shape=(1, 8, 8))
    assert model(torch.randn(6, 1, 8, 8)).shape == (6, 10)
    tt = next(m for m in model.modules() if isinstance(m, TTLinear))
    low = next(m for m in model.modules() if isinstance(m, LowRankLinear))
    assert tt.ranks == [1, 3, 3, 1] and tt.full_weight().shape == (32, 64)
    assert (low.in_features, low.units, low.rank) == (32, 10, 4)
    expected = _tt_params([4, 4, 4], [2, 4, 4], [1, 3, 3, 1]) + 32 + 4 * (32 + 10) + 10
    assert sum(p.numel() for p in model.parameters()) == expected


def test_config_errors_name_the_problem():
    with pytest.raises(ShapeError, match=r"in_modes \[4, 4\] takes 16 features, got 64"):
        lamina.build_model([{"type": "tt_dense", "in_modes": [4, 4], "out_modes": [4, 4]}], input_shape=(64,))
    with pytest.raises(ConfigError, match="same number of modes"):
        lamina.build_model([{"type": "tt_dense", "in_modes": [4, 4], "out_modes": [16]}], input_shape=(16,))
    with pytest.raises(ConfigError, match="ranks"):
        lamina.build_model(
            [{"type": "tt_dense", "in_modes": [4, 4], "out_modes": [4, 4], "ranks": [1, 2, 2]}], input_shape=(16,)
        )
