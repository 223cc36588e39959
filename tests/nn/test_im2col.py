"""The im2col convolution against torch's own convolution and unfold (float64)."""

from __future__ import annotations

import pytest
import torch
from torch.nn import functional as F

import lamina
from lamina.nn.im2col import Im2ColConv2d, im2col, im2col_conv2d
from tests.nn.gradcheck_util import gradcheck_module

GEOMETRIES = [  # kernel, stride, padding, dilation, groups
    ((3, 3), (1, 1), (0, 0), (1, 1), 1),
    ((3, 3), (2, 2), (1, 1), (1, 1), 1),
    ((5, 3), (1, 2), (2, 0), (1, 1), 1),
    ((3, 3), (1, 1), (2, 2), (2, 2), 1),
    ((2, 4), (3, 1), (1, 2), (2, 1), 1),
    ((3, 3), (2, 1), (1, 1), (1, 3), 2),
    ((1, 1), (2, 2), (0, 0), (1, 1), 4),
]


@pytest.mark.parametrize("kernel, stride, padding, dilation, groups", GEOMETRIES)
def test_im2col_conv2d_equals_torch_conv2d(kernel, stride, padding, dilation, groups):
    g = torch.Generator().manual_seed(0)
    x = torch.randn(3, 4, 11, 13, generator=g, dtype=torch.float64)
    w = torch.randn(6 if groups != 4 else 8, 4 // groups, *kernel, generator=g, dtype=torch.float64)
    b = torch.randn(w.shape[0], generator=g, dtype=torch.float64)
    expected = F.conv2d(x, w, b, stride=stride, padding=padding, dilation=dilation, groups=groups)
    got = im2col_conv2d(x, w, b, stride, padding, dilation, groups)
    torch.testing.assert_close(got, expected, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("kernel, stride, padding, dilation, groups", GEOMETRIES[:5])
def test_im2col_columns_equal_torch_unfold(kernel, stride, padding, dilation, groups):
    x = torch.randn(2, 3, 9, 10, dtype=torch.float64)
    expected = F.unfold(x, kernel, dilation=dilation, padding=padding, stride=stride)
    torch.testing.assert_close(im2col(x, kernel, stride, padding, dilation), expected, rtol=0, atol=0)


def test_layer_matches_conv2d_layer_with_the_same_weights():
    options = {"filters": 5, "kernel_size": 3, "stride": 2, "padding": "valid", "dilation": 1}
    conv = lamina.build_model([{"type": "conv2d", **options}], (3, 12, 12)).double()
    mine = lamina.build_model([{"type": "im2col_conv2d", **options}], (3, 12, 12)).double()
    mine.load_state_dict({k.replace("conv2d", "im2col_conv2d"): v for k, v in conv.state_dict().items()})
    x = torch.randn(4, 3, 12, 12, dtype=torch.float64)
    torch.testing.assert_close(mine(x), conv(x), rtol=1e-12, atol=1e-12)


def test_same_padding_is_supported():
    model = lamina.build_model(
        [{"type": "im2col_conv2d", "filters": 2, "kernel_size": 5, "padding": "same"}], (1, 7, 7)
    )
    assert model(torch.zeros(2, 1, 7, 7)).shape == (2, 2, 7, 7)


def test_gradcheck():
    conv = Im2ColConv2d(2, 3, (3, 2), stride=(2, 1), padding=(1, 1), dilation=(1, 2))
    assert gradcheck_module(conv, torch.randn(1, 2, 5, 4))


def test_groups_that_do_not_divide_the_channels_are_refused():
    with pytest.raises(ValueError, match="groups=2 does not fit an input of 3 channels"):
        im2col_conv2d(torch.zeros(1, 3, 5, 5), torch.zeros(4, 1, 3, 3), groups=2)
