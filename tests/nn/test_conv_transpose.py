"""``conv_transpose2d`` (issue #27, DCGAN's upsampling) against its definition: the adjoint of a convolution."""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F

from lamina.errors import ShapeError
from lamina.nn import build_model
from lamina.nn.conv_transpose import conv_transpose_output_length


def test_it_is_the_adjoint_of_the_convolution_with_the_same_kernel():
    # <conv(x), y> = <x, conv_transpose(y)> for every x and y: the defining property
    layer = build_model(
        [{"type": "conv_transpose2d", "filters": 3, "kernel_size": 4, "stride": 2, "padding": 1, "bias": False}],
        (2, 5, 5),
    )
    weight = layer[0].weight.detach().double()  # (in 2, out 3, 4, 4)
    g = torch.Generator().manual_seed(0)
    y = torch.randn(1, 2, 5, 5, generator=g, dtype=torch.float64)
    x = torch.randn(1, 3, 10, 10, generator=g, dtype=torch.float64)
    conv_x = F.conv2d(x, weight, stride=2, padding=1)  # (1, 2, 5, 5): the convolution the layer transposes
    assert (conv_x * y).sum().item() == pytest.approx((x * layer.double()(y)).sum().item(), rel=1e-10)


def test_output_sizes_follow_the_formula():
    assert conv_transpose_output_length(7, 4, 2, 1) == 14  # DCGAN's doubling
    assert conv_transpose_output_length(3, 3, 2, 1, output_padding=1) == 6
    model = build_model(
        [{"type": "conv_transpose2d", "filters": 1, "kernel_size": 3, "stride": 2, "padding": 1, "output_padding": 1}],
        (4, 3, 3),
    )
    assert model.shapes == [(1, 6, 6)]
    assert model(torch.zeros(2, 4, 3, 3)).shape == (2, 1, 6, 6)


def test_bad_geometry_is_refused_with_the_layer_named():
    with pytest.raises(ShapeError, match=r"model.layers\[0\] \(conv_transpose2d\): output_padding"):
        build_model([{"type": "conv_transpose2d", "filters": 1, "kernel_size": 3, "output_padding": 1}], (1, 3, 3))
    with pytest.raises(ShapeError, match="channels, height, width"):
        build_model([{"type": "conv_transpose2d", "filters": 1, "kernel_size": 3}], (9,))
