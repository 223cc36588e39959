"""Transposed convolution ("fractionally strided" or "deconvolution"), the upsampling layer of DCGAN's generator
(Radford, Metz & Chintala, 2016) and of fully convolutional decoders (Zeiler et al., 2010; Long et al., 2015).

It is the gradient of a convolution with respect to its input: each input position scatters a ``kernel_size``
patch, weighted by the kernel, into the output, spaced ``stride`` apart. Sizes follow torch: an output length is
``(L - 1) stride - 2 padding + dilation (kernel - 1) + output_padding + 1``, so ``kernel_size = 4, stride = 2,
padding = 1`` doubles a length.
"""

from __future__ import annotations

from typing import ClassVar

from pydantic import field_validator
from torch import nn

from lamina.config.fields import component, count, fail
from lamina.errors import ShapeError
from lamina.nn.convolution import IntOrPair, _per_dim
from lamina.nn.init import initialize
from lamina.nn.layers import with_activation
from lamina.nn.spec import LayerSpec, Shape, fmt_shape, require_rank
from lamina.registry import register

__all__ = ["ConvTranspose2dSpec", "conv_transpose_output_length"]


def conv_transpose_output_length(
    length: int, kernel: int, stride: int, padding: int, output_padding: int = 0, dilation: int = 1
) -> int:
    """``(L - 1) stride - 2 padding + dilation (kernel - 1) + output_padding + 1`` (torch's ``ConvTranspose``)."""
    return (length - 1) * stride - 2 * padding + dilation * (kernel - 1) + output_padding + 1


@register("layer", "conv_transpose2d", aliases=("deconv2d", "transposed_conv2d"))
class ConvTranspose2dSpec(LayerSpec):
    """2-D transposed convolution over ``(channels, height, width)`` images: ``filters`` output channels, the input
    upsampled by ``stride`` (DCGAN's generator, Radford et al., 2016).

    Args:
        filters: output channels.
        kernel_size, stride, padding, output_padding, dilation: per spatial dimension or one for both.
            ``output_padding`` (smaller than ``stride`` or ``dilation``) resolves which of the output sizes that map
            to the same input size is meant.
        activation, init, bias, bias_init: as for ``conv2d``.

    Shape: ``(N, C, H, W) -> (N, filters, H_out, W_out)``, ``H_out = (H - 1) stride - 2 padding + dilation
    (kernel - 1) + output_padding + 1``.
    """

    target_class: ClassVar[type] = nn.ConvTranspose2d  # lamina's `filters` is its out_channels (consistency test)

    filters: count()
    kernel_size: IntOrPair
    stride: IntOrPair = 1
    padding: IntOrPair = 0
    output_padding: IntOrPair = 0
    dilation: IntOrPair = 1
    activation: component("activation") | None = None
    init: component("initializer") | None = None
    bias: bool = True
    bias_init: component("initializer") | None = None

    @field_validator("kernel_size", "stride", "dilation")
    @classmethod
    def _positive(cls, value: IntOrPair) -> IntOrPair:
        values = [value] if isinstance(value, int) else value
        if any(v < 1 for v in values):
            raise fail(f"expected positive integers, got {value!r}")
        return value

    @field_validator("padding", "output_padding")
    @classmethod
    def _non_negative(cls, value: IntOrPair) -> IntOrPair:
        values = [value] if isinstance(value, int) else value
        if any(v < 0 for v in values):
            raise fail(f"expected non-negative integers, got {value!r}")
        return value

    def _geometry(self, input_shape: Shape) -> tuple[tuple[int, int], ...]:
        require_rank(input_shape, 3, "a 2-D transposed convolution")
        names = ("kernel_size", "stride", "padding", "output_padding", "dilation")
        pairs = [_per_dim(getattr(self, n), 2, n) for n in names]
        kernel, stride, padding, output_padding, dilation = ((p[0], p[1]) for p in pairs)
        for op, s, d in zip(output_padding, stride, dilation):
            if op >= max(s, d):
                raise ShapeError(
                    f"output_padding {list(output_padding)} must be smaller than stride {list(stride)} or dilation "
                    f"{list(dilation)}"
                )
        return kernel, stride, padding, output_padding, dilation

    def output_shape(self, input_shape: Shape) -> Shape:
        """``(C, H, W) -> (filters, H_out, W_out)``; checks that the output is not empty."""
        kernel, stride, padding, output_padding, dilation = self._geometry(input_shape)
        out = tuple(
            conv_transpose_output_length(n, k, s, p, op, d)
            for n, k, s, p, op, d in zip(input_shape[1:], kernel, stride, padding, output_padding, dilation)
        )
        if any(o < 1 for o in out):
            raise ShapeError(f"padding {list(padding)} leaves no output for input {fmt_shape(input_shape)}: {out}")
        return (self.filters, *out)

    def build(self, input_shape: Shape) -> nn.Module:
        """``nn.ConvTranspose2d`` over the input's channels (initialised as asked), then the activation."""
        self.output_shape(input_shape)
        kernel, stride, padding, output_padding, dilation = self._geometry(input_shape)
        conv = nn.ConvTranspose2d(
            input_shape[0],
            self.filters,
            kernel,
            stride=stride,
            padding=padding,
            output_padding=output_padding,
            dilation=dilation,
            bias=self.bias,
        )
        return with_activation(initialize(conv, self.init, self.bias_init), self.activation)
