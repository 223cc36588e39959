"""Apply one layer at every step of a sequence, with shared weights (Keras' ``TimeDistributed``):

    y_t = layer(x_t),    t = 1..L,

e.g. the output layer of a language model, ``{ type = "time_distributed", layer = { type = "dense", units = 65 } }``
after an LSTM that returns sequences. The steps are folded into the batch, so it costs one call of ``layer``.
"""

from __future__ import annotations

import torch
from pydantic import model_validator
from torch import nn

from lamina.config.component import spec_base
from lamina.config.fields import component, raise_problems
from lamina.errors import ShapeError
from lamina.nn.spec import LayerSpec, Shape, fmt_shape
from lamina.registry import register

__all__ = ["TimeDistributed", "TimeDistributedSpec"]


class TimeDistributed(nn.Module):
    """``layer`` applied to each step of ``(N, L, *F)``, giving ``(N, L, *F_out)``.

    Args:
        layer: a module taking ``(B, *F)``.
    """

    def __init__(self, layer: nn.Module) -> None:
        super().__init__()
        self.layer = layer

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        n, length = x.shape[:2]
        out = self.layer(x.reshape(n * length, *x.shape[2:]))  # (N L, *F) -> (N L, *F_out)
        return out.reshape(n, length, *out.shape[1:])


@register("layer", "time_distributed")
class TimeDistributedSpec(spec_base(TimeDistributed, LayerSpec, exclude=("layer",))):  # type: ignore[misc]  # spec_base's base
    """Apply ``layer`` to every step of a sequence with the same weights. Shape: ``(N, L, *F) -> (N, L, *F_out)``.
    :class:`TimeDistributed` takes no option but the module it wraps, which ``layer`` (a layer table) builds.

    Args:
        layer: the layer applied to each step, built for one step's shape.
    """

    layer: component("layer")

    @model_validator(mode="after")
    def _check(self) -> TimeDistributedSpec:
        if self.layer.arity != 1:
            raise_problems("time_distributed", [(("layer",), f"{self.layer.type_name} joins several inputs")])
        return self

    def output_shape(self, input_shape: Shape) -> Shape:
        """``(L, *F) -> (L, *F_out)``, ``F_out`` what ``layer`` gives for one step ``F``."""
        if len(input_shape) < 2:
            raise ShapeError(
                f"expects a sequence (length, *features) for time_distributed, got {fmt_shape(input_shape)}"
            )
        try:
            step = tuple(self.layer.output_shape(tuple(input_shape[1:])))
        except ShapeError as err:
            raise ShapeError(f"layer ({self.layer.type_name}): {err}") from None
        return (input_shape[0], *step)

    def build(self, input_shape: Shape) -> nn.Module:
        """A :class:`TimeDistributed` around ``layer`` built for one step's shape."""
        self.output_shape(input_shape)
        return TimeDistributed(self.layer.build(tuple(input_shape[1:])))
