"""Convolution as one matrix product (Chellapilla, Puri & Simard, 2006): a documented reference implementation.

A 2-D convolution of ``x`` ``(N, C, H, W)`` with ``O`` filters of ``(C, kh, kw)`` is a matrix product once every
receptive field is copied out as a column ("im2col", image to columns)::

    cols[n, (c, i, j), (p, q)] = x_pad[n, c, p s_h + i d_h, q s_w + j d_w]     (N, C kh kw, H_out W_out)
    y[n, :, (p, q)]            = W.reshape(O, C kh kw) @ cols[n, :, (p, q)] + b

The copy costs ``kh kw`` times the input's memory, and in exchange the arithmetic is one large GEMM, the form BLAS
runs fastest; that is how Caffe and the first GPU convnets computed convolutions. Here the columns are gathered
with ``kh kw`` strided slices of the padded input, one per kernel position. ``torch.nn.Conv2d`` (with its oneDNN or
cuDNN kernels) is the one to train with; this module is the readable version, equal to it to rounding.
"""

from __future__ import annotations

import math
from typing import ClassVar

import torch
from torch import nn
from torch.nn import functional as F

from lamina.nn.convolution import Conv2dSpec, conv_output_length
from lamina.nn.init import initialize
from lamina.nn.layers import with_activation
from lamina.nn.max_norm import apply_max_norm
from lamina.nn.spec import Shape
from lamina.nn.weight_norm import apply_weight_norm
from lamina.registry import register

__all__ = ["Im2ColConv2d", "Im2ColConv2dSpec", "im2col", "im2col_conv2d"]

Pair = tuple[int, int]


def im2col(
    x: torch.Tensor, kernel_size: Pair, stride: Pair = (1, 1), padding: Pair = (0, 0), dilation: Pair = (1, 1)
) -> torch.Tensor:
    """The receptive fields of ``x`` as columns.

    Args:
        x: ``(N, C, H, W)``.
        kernel_size, stride, padding (zeros on each side), dilation: per dimension, (height, width).

    Returns:
        ``(N, C * kh * kw, H_out * W_out)``, rows ordered by channel, then kernel row, then kernel column (the
        layout of ``torch.nn.functional.unfold`` and of a flattened ``(O, C, kh, kw)`` weight).
    """
    (kh, kw), (sh, sw), (ph, pw), (dh, dw) = kernel_size, stride, padding, dilation
    n, c, h, w = x.shape
    h_out, w_out = conv_output_length(h, kh, sh, ph, dh), conv_output_length(w, kw, sw, pw, dw)
    if h_out < 1 or w_out < 1:
        raise ValueError(
            f"kernel {kernel_size} (dilation {dilation}, padding {padding}) does not fit an input of {h}x{w}"
        )
    xp = F.pad(x, (pw, pw, ph, ph))
    patches = [
        xp[:, :, i * dh : i * dh + sh * (h_out - 1) + 1 : sh, j * dw : j * dw + sw * (w_out - 1) + 1 : sw]
        for i in range(kh)
        for j in range(kw)
    ]  # kh*kw tensors of (N, C, H_out, W_out)
    cols = torch.stack(patches, dim=2)  # (N, C, kh*kw, H_out, W_out)
    return cols.reshape(n, c * kh * kw, h_out * w_out)


def im2col_conv2d(
    x: torch.Tensor,
    weight: torch.Tensor,
    bias: torch.Tensor | None = None,
    stride: Pair = (1, 1),
    padding: Pair = (0, 0),
    dilation: Pair = (1, 1),
    groups: int = 1,
) -> torch.Tensor:
    """``torch.nn.functional.conv2d`` computed as im2col followed by one (batched, per group) matrix product.

    Args:
        x: ``(N, C, H, W)``.
        weight: ``(O, C / groups, kh, kw)``.
        bias: ``(O,)`` or ``None``.
        stride, padding, dilation: (height, width).
        groups: channels split into independent groups.

    Returns:
        ``(N, O, H_out, W_out)``.
    """
    n, c, h, w = x.shape
    o, c_group, kh, kw = weight.shape
    if c != c_group * groups or o % groups:
        raise ValueError(f"weight {tuple(weight.shape)} with groups={groups} does not fit an input of {c} channels")
    cols = im2col(x, (kh, kw), stride, padding, dilation)  # (N, C kh kw, L)
    h_out = conv_output_length(h, kh, stride[0], padding[0], dilation[0])
    w_out = conv_output_length(w, kw, stride[1], padding[1], dilation[1])
    cols = cols.view(n, groups, c_group * kh * kw, h_out * w_out)  # (N, G, C/G kh kw, L)
    kernels = weight.reshape(groups, o // groups, c_group * kh * kw)  # (G, O/G, C/G kh kw)
    out = torch.matmul(kernels, cols)  # (N, G, O/G, L): one GEMM per example and group
    out = out.reshape(n, o, h_out, w_out)
    return out if bias is None else out + bias.view(1, o, 1, 1)


class Im2ColConv2d(nn.Module):
    """A 2-D convolution computed by :func:`im2col_conv2d`, with ``nn.Conv2d``'s parameters and initialisation
    (so a state dict moves between the two).

    Args:
        in_channels, out_channels, kernel_size, stride, padding, dilation, groups, bias: as ``nn.Conv2d``'s
            (sizes as (height, width) pairs).

    Shape: ``(N, C_in, H, W) -> (N, C_out, H_out, W_out)``.

    References:
        Chellapilla, Puri & Simard (2006), "High Performance Convolutional Neural Networks for Document
        Processing", IWFHR.
    """

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        kernel_size: Pair,
        stride: Pair = (1, 1),
        padding: Pair = (0, 0),
        dilation: Pair = (1, 1),
        groups: int = 1,
        bias: bool = True,
    ) -> None:
        super().__init__()
        self.in_channels, self.out_channels, self.groups = in_channels, out_channels, groups
        self.kernel_size, self.stride = tuple(kernel_size), tuple(stride)
        self.padding, self.dilation = tuple(padding), tuple(dilation)
        self.weight = nn.Parameter(torch.empty(out_channels, in_channels // groups, *self.kernel_size))
        self.bias = nn.Parameter(torch.empty(out_channels)) if bias else None
        self.reset_parameters()

    def reset_parameters(self) -> None:
        """``nn.Conv2d``'s initialisation: U(-1/sqrt(fan_in), 1/sqrt(fan_in))."""
        nn.init.kaiming_uniform_(self.weight, a=math.sqrt(5))
        if self.bias is not None:
            bound = 1 / math.sqrt(self.weight[0].numel())
            nn.init.uniform_(self.bias, -bound, bound)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return im2col_conv2d(x, self.weight, self.bias, self.stride, self.padding, self.dilation, self.groups)

    def extra_repr(self) -> str:
        return (
            f"{self.in_channels}, {self.out_channels}, kernel_size={self.kernel_size}, stride={self.stride}, "
            f"padding={self.padding}, dilation={self.dilation}, groups={self.groups}"
        )


@register("layer", "im2col_conv2d")
class Im2ColConv2dSpec(Conv2dSpec):
    """``conv2d`` computed explicitly as im2col + one matrix product (Chellapilla et al., 2006): the same options,
    parameters and results as ``conv2d``; a reference implementation for teaching and testing, slower to train."""

    # which takes nn.Conv2d's keywords, so that a state dict moves between the two (see the consistency test)
    target_class: ClassVar[type] = Im2ColConv2d

    def build(self, input_shape: Shape) -> nn.Module:
        """An :class:`Im2ColConv2d` (initialised and weight-normalised as asked), then the activation."""
        self.output_shape(input_shape)
        kernel, stride, padding, dilation = self._geometry(input_shape, "")
        conv = Im2ColConv2d(input_shape[0], self.filters, kernel, stride, padding, dilation, self.groups, self.bias)
        conv = initialize(conv, self.init, self.bias_init)
        if self.weight_norm:
            apply_weight_norm(conv)
        if self.max_norm is not None:
            apply_max_norm(conv, self.max_norm)
        return with_activation(conv, self.activation)
