"""A lamina plugin: importing this module registers the layer ``scale`` (``y = factor * x``)."""

from torch import nn

from lamina.config.fields import number
from lamina.nn import LayerSpec
from lamina.registry import register


class Scale(nn.Module):
    """``y = factor * x``."""

    def __init__(self, factor: float) -> None:
        super().__init__()
        self.factor = factor

    def forward(self, x):
        return self.factor * x


@register("layer", "scale")
class ScaleSpec(LayerSpec):
    """Multiply the input by ``factor``. Shape unchanged."""

    factor: number() = 2.0

    def output_shape(self, input_shape):
        return input_shape

    def build(self, input_shape):
        return Scale(self.factor)
