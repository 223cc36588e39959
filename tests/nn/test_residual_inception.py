"""Residual and inception blocks against the same networks written with torch.nn.functional; gradchecks;
shape errors that name the block and the shapes."""

from __future__ import annotations

import pytest
import torch
from torch.nn import functional as F

import lamina
from lamina.nn.residual import Residual
from tests.nn.gradcheck_util import gradcheck_module


def _bn(x, bn):  # batch norm in training mode, from its definition
    mean, var = x.mean(dim=(0, 2, 3), keepdim=True), x.var(dim=(0, 2, 3), keepdim=True, unbiased=False)
    return (x - mean) / torch.sqrt(var + bn.eps) * bn.weight.view(1, -1, 1, 1) + bn.bias.view(1, -1, 1, 1)


def test_basic_block_with_projection_equals_the_paper_written_out():
    torch.manual_seed(0)
    model = lamina.build_model([{"type": "residual", "filters": 6, "stride": 2}], (3, 8, 8)).double()
    block = model[0]
    conv1, bn1, _, conv2, bn2 = block.branch
    proj, proj_bn = block.shortcut
    x = torch.randn(4, 3, 8, 8, dtype=torch.float64)
    h = F.relu(_bn(F.conv2d(x, conv1.weight, stride=2, padding=1), bn1))
    h = _bn(F.conv2d(h, conv2.weight, padding=1), bn2)
    shortcut = _bn(F.conv2d(x, proj.weight, stride=2), proj_bn)
    torch.testing.assert_close(model(x), F.relu(h + shortcut))  # He et al. (2015), eq. 2 with option B


def test_preactivation_block_with_identity_shortcut_equals_the_paper_written_out():
    torch.manual_seed(0)
    model = lamina.build_model([{"type": "residual", "filters": 3, "preactivation": True}], (3, 6, 6)).double()
    block = model[0]
    bn0, _ = block.pre
    conv1, bn1, _, conv2 = block.branch
    assert block.shortcut is None and block.post is None
    x = torch.randn(4, 3, 6, 6, dtype=torch.float64)
    h = F.relu(_bn(x, bn0))
    h = F.conv2d(F.relu(_bn(F.conv2d(h, conv1.weight, padding=1), bn1)), conv2.weight, padding=1)
    torch.testing.assert_close(model(x), x + h)  # He et al. (2016), eq. 3: no activation after the sum


def test_residual_with_custom_layers_on_vectors():
    model = lamina.build_model(
        [
            {
                "type": "residual",
                "layers": [{"type": "dense", "units": 5, "activation": "tanh"}, {"type": "dense", "units": 5}],
            }
        ],
        (5,),
    )
    block = model[0]
    x = torch.randn(3, 5)
    torch.testing.assert_close(model(x), F.relu(x + block.branch(x)))


def test_inception_googlenet_module_concatenates_its_four_branches():
    torch.manual_seed(0)
    model = lamina.build_model(
        [
            {
                "type": "inception",
                "conv1x1": 4,
                "reduce3x3": 3,
                "conv3x3": 5,
                "reduce5x5": 2,
                "conv5x5": 3,
                "pool_proj": 2,
            }
        ],
        (6, 7, 7),
    ).double()
    b1, b3, b5, bp = (list(branch) for branch in model[0].branches)
    x = torch.randn(2, 6, 7, 7, dtype=torch.float64)

    def conv(h, layer, pad):
        return F.relu(F.conv2d(h, layer.weight, layer.bias, padding=pad))

    expected = torch.cat(
        [  # Szegedy et al. (2015), figure 2b
            conv(x, b1[0], 0),
            conv(conv(x, b3[0], 0), b3[2], 1),
            conv(conv(x, b5[0], 0), b5[2], 2),
            conv(F.max_pool2d(x, 3, stride=1, padding=1), bp[1], 0),
        ],
        dim=1,
    )
    assert model.shapes == [(4 + 5 + 3 + 2, 7, 7)]
    torch.testing.assert_close(model(x), expected)


def test_inception_3a_has_googlenets_width_and_parameters():
    spec = {
        "type": "inception",
        "conv1x1": 64,
        "reduce3x3": 96,
        "conv3x3": 128,
        "reduce5x5": 16,
        "conv5x5": 32,
        "pool_proj": 32,
    }
    model = lamina.build_model([spec], (192, 28, 28))
    assert model.shapes == [(256, 28, 28)]  # Szegedy et al. (2015), table 1
    weights = 192 * 64 + 192 * 96 + 9 * 96 * 128 + 192 * 16 + 25 * 16 * 32 + 192 * 32
    assert lamina.nn.count_parameters(model) == weights + 64 + 96 + 128 + 16 + 32 + 32  # table 1: 159K


def test_blocks_gradcheck():
    torch.manual_seed(0)
    residual = lamina.build_model([{"type": "residual", "filters": 3, "stride": 2, "preactivation": True}], (2, 5, 5))
    inception = lamina.build_model(
        [
            {
                "type": "inception",
                "activation": "tanh",
                "branches": [
                    [{"type": "conv2d", "filters": 2, "kernel_size": 3, "padding": 1}],
                    [{"type": "avg_pool2d", "kernel_size": 3, "stride": 1, "padding": 1}],
                    [],
                ],
            }
        ],
        (2, 4, 4),
    )
    assert gradcheck_module(residual, torch.randn(3, 2, 5, 5), fast=True)
    assert gradcheck_module(inception, torch.randn(2, 2, 4, 4), fast=True)


def test_residual_module_from_python():
    block = Residual(torch.nn.Linear(4, 4), post=torch.nn.ReLU())
    x = torch.randn(2, 4)
    torch.testing.assert_close(block(x), torch.relu(x + block.branch(x)))


# -- bad input ------------------------------------------------------------------------------------------------------


def test_inception_branches_of_different_sizes_name_the_block_and_the_shapes():
    spec = {
        "type": "inception",
        "name": "inc3a",
        "branches": [
            [{"type": "conv2d", "filters": 4, "kernel_size": 1}],
            [{"type": "conv2d", "filters": 8, "kernel_size": 3}],  # no padding: 8x8 -> 6x6
        ],
    }
    with pytest.raises(lamina.ShapeError) as info:
        lamina.build_model([{"type": "flatten"}, {"type": "reshape", "shape": [3, 8, 8]}, spec], (192,))
    message = str(info.value)
    assert "model.layers[2] (inception): inception 'inc3a'" in message
    assert "(4, 8, 8) (branch 0), (8, 6, 6) (branch 1)" in message and "every dimension but dim 0" in message


def test_identity_shortcut_on_a_shape_changing_branch_names_the_block_and_the_shapes():
    spec = {
        "type": "residual",
        "name": "res2",
        "shortcut": "identity",
        "layers": [{"type": "conv2d", "filters": 8, "kernel_size": 3, "padding": 1, "stride": 2}],
    }
    with pytest.raises(lamina.ShapeError) as info:
        lamina.build_model([spec], (4, 8, 8))
    message = str(info.value)
    assert "model.layers[0] (residual): residual 'res2': the identity shortcut" in message
    assert "maps (4, 8, 8) to (8, 4, 4)" in message and 'shortcut = "projection"' in message


def test_unprojectable_shortcut_and_inner_layer_errors():
    with pytest.raises(
        lamina.ShapeError,
        match=r"cannot project the shortcut from \(4, 8, 8\) to the branch output "
        r"\(32,\)",
    ):
        lamina.build_model(
            [{"type": "residual", "layers": [{"type": "flatten"}, {"type": "dense", "units": 32}]}], (4, 8, 8)
        )
    with pytest.raises(lamina.ShapeError, match=r"model.layers\[0\] \(residual\): layers\[1\] \(dense\).*flatten"):
        lamina.build_model(
            [{"type": "residual", "layers": [{"type": "relu"}, {"type": "dense", "units": 3}]}], (4, 8, 8)
        )


@pytest.mark.parametrize(
    "spec, message",
    [
        ({"type": "residual"}, r"model.layers\[0\]: give either `layers`"),
        ({"type": "residual", "filters": 4, "layers": []}, r"give either `layers`"),
        ({"type": "residual", "layers": [{"type": "relu"}], "stride": 2}, r"model.layers\[0\].stride: `stride` shapes"),
        ({"type": "residual", "layers": [{"type": "add"}]}, r"model.layers\[0\].layers\[0\]: add joins several inputs"),
        (
            {"type": "residual", "layers": [{"type": "relu", "name": "a"}, {"type": "tanh", "name": "a"}]},
            r"model.layers\[0\].layers\[1\].name: name 'a' is used twice in this block",
        ),
        ({"type": "inception", "conv1x1": 4}, r"missing: reduce3x3, conv3x3, reduce5x5, conv5x5, pool_proj"),
        ({"type": "inception", "branches": [[{"type": "relu"}]]}, r"branches: an inception block joins two or more"),
        (
            {"type": "inception", "branches": [[{"type": "dense", "unit": 3}], []]},
            r"model.layers\[0\].branches\[0\]\[0\].unit: unknown key 'unit'; did you mean 'units'",
        ),
    ],
)
def test_block_config_errors_name_the_path(spec, message):
    with pytest.raises(lamina.ConfigError, match=message):
        lamina.build_model([spec], (4, 8, 8))
