"""Convolution and pooling layers in one and two dimensions (LeCun et al., 1989; 1998).

Sizes follow torch: an output length is ``floor((L + 2 padding - dilation (kernel - 1) - 1) / stride) + 1``.
"""

from __future__ import annotations

from typing import Any, ClassVar

from pydantic import field_validator, model_validator
from torch import nn

from lamina.config.fields import component, count, fail, number
from lamina.errors import ShapeError
from lamina.nn.init import initialize
from lamina.nn.layers import check_one_norm, with_activation
from lamina.nn.max_norm import apply_max_norm
from lamina.nn.spec import LayerSpec, Shape, fmt_shape, require_rank
from lamina.nn.weight_norm import apply_weight_norm
from lamina.registry import register

__all__ = ["ConvSpec", "Conv1dSpec", "Conv2dSpec", "PoolSpec", "GlobalAvgPoolSpec", "conv_output_length"]

IntOrPair = int | list[int]


def conv_output_length(length: int, kernel: int, stride: int, padding: int, dilation: int = 1) -> int:
    """``floor((L + 2 padding - dilation (kernel - 1) - 1) / stride) + 1``."""
    return (length + 2 * padding - dilation * (kernel - 1) - 1) // stride + 1


def _per_dim(value: IntOrPair, dims: int, field: str) -> tuple[int, ...]:
    values = (value,) * dims if isinstance(value, int) else tuple(value)
    if len(values) != dims:
        raise ShapeError(f"{field} must be one integer or a list of {dims}, got {value!r}")
    return values


class _Windowed(LayerSpec):
    """Options shared by convolutions and poolings over ``dims`` spatial dimensions."""

    dims: ClassVar[int] = 2

    kernel_size: IntOrPair
    stride: IntOrPair | None = None
    padding: IntOrPair | str = 0
    dilation: IntOrPair = 1

    @field_validator("kernel_size", "stride", "dilation")
    @classmethod
    def _positive(cls, value: Any) -> Any:
        values = [value] if isinstance(value, int) else value
        if values is not None and any(v < 1 for v in values):
            raise fail(f"expected positive integers, got {value!r}")
        return value

    @field_validator("padding")
    @classmethod
    def _padding(cls, value: Any) -> Any:
        if isinstance(value, str) and value not in ("same", "valid"):
            raise fail(f"expected an integer, a list of integers, 'same' or 'valid', got {value!r}")
        values = [] if isinstance(value, str) else [value] if isinstance(value, int) else value
        if any(v < 0 for v in values):
            raise fail(f"expected non-negative integers, got {value!r}")
        return value

    def _geometry(self, input_shape: Shape, what: str) -> tuple[tuple[int, ...], ...]:
        require_rank(input_shape, self.dims + 1, what)
        kernel = _per_dim(self.kernel_size, self.dims, "kernel_size")
        stride = _per_dim(self.stride if self.stride is not None else self._default_stride(kernel), self.dims, "stride")
        dilation = _per_dim(self.dilation, self.dims, "dilation")
        if self.padding == "same":
            if any(s != 1 for s in stride):
                raise ShapeError(f"padding 'same' needs stride 1, got stride {list(stride)}")
            padding = tuple(d * (k - 1) // 2 for k, d in zip(kernel, dilation))
        else:
            padding = (0,) * self.dims if self.padding == "valid" else _per_dim(self.padding, self.dims, "padding")
        return kernel, stride, padding, dilation

    def _default_stride(self, kernel: tuple[int, ...]) -> IntOrPair:
        return 1

    def _spatial(self, input_shape: Shape, what: str) -> tuple[int, ...]:
        kernel, stride, padding, dilation = self._geometry(input_shape, what)
        out = tuple(
            conv_output_length(n, k, s, p, d)
            for n, k, s, p, d in zip(input_shape[1:], kernel, stride, padding, dilation)
        )
        if any(o < 1 for o in out):
            raise ShapeError(
                f"kernel {list(kernel)} (dilation {list(dilation)}, padding {list(padding)}) does not fit "
                f"input {fmt_shape(input_shape)}: output would be {out}"
            )
        return out


class ConvSpec(_Windowed):
    """Convolution: ``filters`` output channels, each a learned ``kernel_size`` filter over all input channels
    (or over ``in_channels / groups`` of them).

    Args:
        filters: output channels.
        kernel_size, stride, padding ("same", "valid" or sizes), dilation: per spatial dimension or one for all.
        groups: split channels into this many independent groups.
        activation, init, bias, bias_init, weight_norm, max_norm: as for ``dense`` (max-norm bounds each filter's
            weights, all input channels and kernel positions together).

    Shape: ``(N, C, L) -> (N, filters, L_out)`` (1-D); ``(N, C, H, W) -> (N, filters, H_out, W_out)`` (2-D).
    """

    filters: count()
    groups: count() = 1
    activation: component("activation") | None = None
    init: component("initializer") | None = None
    bias: bool = True
    bias_init: component("initializer") | None = None
    weight_norm: bool = False
    max_norm: number(0, lo_open=True) | None = None

    @model_validator(mode="after")
    def _one_norm(self) -> ConvSpec:
        check_one_norm(self, f"conv{self.dims}d")
        return self

    def output_shape(self, input_shape: Shape) -> Shape:
        """``(C, *spatial) -> (filters, *spatial_out)``; checks that the kernel fits and groups divide."""
        spatial = self._spatial(input_shape, f"a {self.dims}-D convolution")
        if input_shape[0] % self.groups or self.filters % self.groups:
            raise ShapeError(
                f"groups={self.groups} must divide both the input channels ({input_shape[0]}) "
                f"and filters ({self.filters})"
            )
        return (self.filters, *spatial)

    def build(self, input_shape: Shape) -> nn.Module:
        """``nn.Conv1d``/``nn.Conv2d`` over the input's channels (initialised as asked), then the activation."""
        self.output_shape(input_shape)
        kernel, stride, padding, dilation = self._geometry(input_shape, "")
        conv_cls = nn.Conv1d if self.dims == 1 else nn.Conv2d
        conv = conv_cls(
            input_shape[0],
            self.filters,
            kernel,
            stride=stride,
            padding=padding,
            dilation=dilation,
            groups=self.groups,
            bias=self.bias,
        )
        conv = initialize(conv, self.init, self.bias_init)
        if self.weight_norm:
            apply_weight_norm(conv)  # after the initializer: g starts at the initial weights' norms
        if self.max_norm is not None:
            apply_max_norm(conv, self.max_norm)
        return with_activation(conv, self.activation)


@register("layer", "conv1d")
class Conv1dSpec(ConvSpec):
    """1-D convolution over ``(channels, length)`` inputs (TDNN-style filters over time).

    Its options are :class:`ConvSpec`'s (``lamina names layer conv1d`` lists them)."""

    dims: ClassVar[int] = 1
    target_class: ClassVar[type] = nn.Conv1d  # lamina's `filters` is its out_channels (see the consistency test)


@register("layer", "conv2d", aliases=("conv",))
class Conv2dSpec(ConvSpec):
    """2-D convolution over ``(channels, height, width)`` images (LeCun et al., 1989).

    Its options are :class:`ConvSpec`'s (``lamina names layer conv2d`` lists them)."""

    dims: ClassVar[int] = 2
    target_class: ClassVar[type] = nn.Conv2d  # lamina's `filters` is its out_channels (see the consistency test)


class PoolSpec(_Windowed):
    """Max or average pooling over windows of ``kernel_size`` (``stride`` defaults to the kernel size).

    Shape: ``(N, C, *spatial) -> (N, C, *spatial_out)``.
    """

    mode: ClassVar[str] = "max"
    ceil_mode: bool = False

    def _default_stride(self, kernel: tuple[int, ...]) -> IntOrPair:
        return list(kernel)

    def output_shape(self, input_shape: Shape) -> Shape:
        """``(C, *spatial) -> (C, *spatial_out)``; the channels are kept."""
        if self.ceil_mode:
            return super().output_shape(input_shape)
        return (input_shape[0], *self._spatial(input_shape, f"{self.dims}-D {self.mode} pooling"))

    def build(self, input_shape: Shape) -> nn.Module:
        """``nn.MaxPool*d`` or ``nn.AvgPool*d`` with the window geometry."""
        kernel, stride, padding, dilation = self._geometry(input_shape, f"{self.dims}-D {self.mode} pooling")
        if any(p > k // 2 for p, k in zip(padding, kernel)):
            raise ShapeError(f"pooling padding {list(padding)} must be at most half the kernel {list(kernel)}")
        if self.mode == "max":
            cls = nn.MaxPool1d if self.dims == 1 else nn.MaxPool2d
            return cls(kernel, stride, padding, dilation, ceil_mode=self.ceil_mode)
        if any(d != 1 for d in dilation):
            raise ShapeError("average pooling has no dilation")
        cls = nn.AvgPool1d if self.dims == 1 else nn.AvgPool2d
        return cls(kernel, stride, padding, ceil_mode=self.ceil_mode)


@register("layer", "max_pool1d", aliases=("maxpool1d",))
class MaxPool1dSpec(PoolSpec):
    """1-D max pooling: the largest value in each window. The options are ``torch.nn.MaxPool1d``'s keywords,
    with its defaults (``padding`` also takes ``"same"`` or ``"valid"``)."""

    target_class: ClassVar[type] = nn.MaxPool1d

    mode, dims = "max", 1


@register("layer", "max_pool2d", aliases=("maxpool2d", "max_pool"))
class MaxPool2dSpec(PoolSpec):
    """2-D max pooling: the largest value in each window. The options are ``torch.nn.MaxPool2d``'s keywords,
    with its defaults (``padding`` also takes ``"same"`` or ``"valid"``)."""

    target_class: ClassVar[type] = nn.MaxPool2d

    mode, dims = "max", 2


@register("layer", "avg_pool1d", aliases=("avgpool1d",))
class AvgPool1dSpec(PoolSpec):
    """1-D average pooling: the mean of each window."""

    target_class: ClassVar[type] = nn.AvgPool1d  # which has no `dilation` (see the consistency test)

    mode, dims = "avg", 1


@register("layer", "avg_pool2d", aliases=("avgpool2d", "avg_pool"))
class AvgPool2dSpec(PoolSpec):
    """2-D average pooling (LeNet's subsampling, without its learned scale): the mean of each window."""

    target_class: ClassVar[type] = nn.AvgPool2d  # which has no `dilation` (see the consistency test)

    mode, dims = "avg", 2


@register("layer", "global_avg_pool", aliases=("global_average_pooling",))
class GlobalAvgPoolSpec(LayerSpec):
    """Average over every spatial position (Lin et al., 2014). Shape: ``(N, C, *spatial) -> (N, C)``."""

    def output_shape(self, input_shape: Shape) -> Shape:
        """``(C, *spatial) -> (C,)``."""
        require_rank(input_shape, (2, 3), "global average pooling")
        return (input_shape[0],)

    def build(self, input_shape: Shape) -> nn.Module:
        """Adaptive average pooling to one position, flattened."""
        self.output_shape(input_shape)
        pool = nn.AdaptiveAvgPool1d(1) if len(input_shape) == 2 else nn.AdaptiveAvgPool2d(1)
        return nn.Sequential(pool, nn.Flatten())
