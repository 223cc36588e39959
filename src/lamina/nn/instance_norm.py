"""Instance normalisation (Ulyanov, Vedaldi & Lempitsky, 2016): each channel of each example normalised over its
own spatial positions,

    y_nc = gamma_c (x_nc - mean(x_nc)) / sqrt(var(x_nc) + eps) + beta_c,

with the same statistics in training and evaluation (no batch dependence, unlike batch norm). Layer normalisation
(all features of one example) is ``layernorm``.
"""

from __future__ import annotations

from typing import ClassVar

from torch import nn

from lamina.config.fields import number
from lamina.nn.spec import LayerSpec, Shape, require_rank
from lamina.registry import register

__all__ = ["InstanceNormSpec"]


@register("layer", "instancenorm", aliases=("instance_norm",))
class InstanceNormSpec(LayerSpec):
    """Normalise each channel of each example over its positions, then scale and shift per channel
    (Ulyanov et al., 2016, "Instance Normalization: The Missing Ingredient for Fast Stylization").

    Args:
        eps: added to the variance.
        affine: learn ``gamma`` and ``beta`` per channel.

    Shape: ``(N, C, L)`` or ``(N, C, H, W)``, unchanged.
    """

    target_class: ClassVar[type] = nn.InstanceNorm1d  # whose affine defaults to False (see the consistency test)

    eps: number(0, lo_open=True) = 1e-5
    affine: bool = True

    def output_shape(self, input_shape: Shape) -> Shape:
        """``(C, L)`` or ``(C, H, W)``, unchanged."""
        require_rank(input_shape, (2, 3), "instance normalization")
        return input_shape

    def build(self, input_shape: Shape) -> nn.Module:
        """``nn.InstanceNorm1d`` or ``nn.InstanceNorm2d`` (from the input's rank) over the input's channels."""
        self.output_shape(input_shape)
        cls = nn.InstanceNorm1d if len(input_shape) == 2 else nn.InstanceNorm2d
        return cls(input_shape[0], eps=self.eps, affine=self.affine)
