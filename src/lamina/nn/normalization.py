"""Normalization layers: batch normalization (Ioffe & Szegedy, 2015) and layer normalization (Ba et al., 2016)."""

from __future__ import annotations

from typing import ClassVar

from torch import nn

from lamina.config.fields import count, number
from lamina.nn.spec import LayerSpec, Shape, require_rank
from lamina.registry import register

__all__ = ["BatchNormSpec", "LayerNormSpec"]


@register("layer", "batchnorm", aliases=("batch_norm",))
class BatchNormSpec(LayerSpec):
    """Normalize each feature (or channel) by the batch's mean and variance, then scale and shift:
    ``y = gamma (x - mean) / sqrt(var + eps) + beta``; running averages are used at evaluation.

    The variant follows the input: ``(N, F)`` and ``(N, C, L)`` use ``BatchNorm1d``, ``(N, C, H, W)``
    ``BatchNorm2d``; the options are their keywords (the two share them), with torch's defaults. Shape unchanged.
    """

    target_class: ClassVar[type] = nn.BatchNorm1d

    momentum: number(0, 1) = 0.1
    eps: number(0, lo_open=True) = 1e-5
    affine: bool = True

    def output_shape(self, input_shape: Shape) -> Shape:
        """The input shape, for inputs of 1 to 3 dimensions."""
        require_rank(input_shape, (1, 2, 3), "batch normalization")
        return input_shape

    def build(self, input_shape: Shape) -> nn.Module:
        """``nn.BatchNorm2d`` for images, else ``nn.BatchNorm1d``, over the first dimension."""
        self.output_shape(input_shape)
        cls = nn.BatchNorm2d if len(input_shape) == 3 else nn.BatchNorm1d
        return cls(input_shape[0], **self.options())


@register("layer", "layernorm", aliases=("layer_norm",))
class LayerNormSpec(LayerSpec):
    """Normalize each example over its last ``dims`` dimensions, then scale and shift. Shape unchanged."""

    target_class: ClassVar[type] = nn.LayerNorm  # which takes normalized_shape, not `dims` (see the consistency test)

    dims: count() = 1
    eps: number(0, lo_open=True) = 1e-5
    elementwise_affine: bool = True

    def output_shape(self, input_shape: Shape) -> Shape:
        """The input shape."""
        require_rank(input_shape, tuple(range(self.dims, 8)), f"layer normalization over {self.dims} dims")
        return input_shape

    def build(self, input_shape: Shape) -> nn.Module:
        """``nn.LayerNorm`` over the last ``dims`` dimensions."""
        self.output_shape(input_shape)
        return nn.LayerNorm(list(input_shape[-self.dims :]), eps=self.eps, elementwise_affine=self.elementwise_affine)
