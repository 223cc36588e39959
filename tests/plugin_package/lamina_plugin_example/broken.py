"""A plugin entry point that fails: it registers a layer under the name lamina's own dense layer holds."""

from lamina.nn import LayerSpec
from lamina.registry import register


def setup() -> None:
    """Register ``dense`` again: the registry refuses, so lamina skips this entry point with a warning."""

    @register("layer", "dense")
    class AnotherDense(LayerSpec):
        """Not lamina's dense layer."""
