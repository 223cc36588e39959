"""Stacked sequence layers (Graves, Mohamed & Hinton, 2013): ``num_layers`` copies of a sequence layer, each
reading the sequence of outputs of the one below,

    h^(l)_t = layer_l(h^(l-1)_1..h^(l-1)_t),    h^(0) = x,

with optional dropout between them (Zaremba, Sutskever & Vinyals, 2014) and optional residual connections
``h^(l) = layer_l(h^(l-1)) + h^(l-1)`` where the widths agree (Wu et al., 2016). Wraps any registered sequence layer,
including ``bidirectional``: ``{ type = "stacked_rnn", layer = { type = "gru", units = 128 }, num_layers = 3 }``.
Every copy but the last returns sequences; the last follows ``return_sequences``.
"""

from __future__ import annotations

from typing import Annotated

import torch
from pydantic import model_validator
from torch import nn

from lamina.config.component import Bounds, spec_base, validated
from lamina.config.fields import component, count, raise_problems
from lamina.errors import ShapeError
from lamina.nn.nested import require_sequence
from lamina.nn.spec import LayerSpec, Shape, fmt_shape
from lamina.registry import register

__all__ = ["StackedRecurrent", "StackedRecurrentSpec", "with_sequences"]


def with_sequences(spec: LayerSpec, return_sequences: bool) -> LayerSpec:
    """``spec`` set to return (or not) the whole sequence: its own ``return_sequences`` option, or that of the layer
    a wrapper (``bidirectional``) holds; layers without the option are returned as they are."""
    if "return_sequences" in type(spec).model_fields:
        return spec.model_copy(update={"return_sequences": return_sequences})
    if isinstance(getattr(spec, "layer", None), LayerSpec):
        return spec.model_copy(update={"layer": with_sequences(spec.layer, return_sequences)})
    return spec


class StackedRecurrent(nn.Module):
    """Sequence layers applied in turn, with dropout between them and optional residual connections.

    Args:
        layers: the copies, bottom first.
        dropout: on the outputs of every layer but the last, in training (between layers, Zaremba et al., 2014).
        residual: add a layer's input to its output where their shapes agree (Wu et al., 2016).

    Shape: ``(N, L, F) -> (N, L, H)`` or ``(N, H)`` (the last layer's). ``forward(x, lengths)`` hands the lengths of
    padded sequences to every layer.

    References:
        Graves, Mohamed & Hinton (2013), "Speech Recognition with Deep Recurrent Neural Networks", ICASSP.
    """

    @validated
    def __init__(
        self, layers: list[nn.Module], dropout: Annotated[float, Bounds(ge=0, lt=1)] = 0.0, residual: bool = False
    ) -> None:
        super().__init__()
        self.layers = nn.ModuleList(layers)
        self.dropout = nn.Dropout(dropout)
        self.residual = residual

    def forward(self, x: torch.Tensor, lengths: torch.Tensor | None = None) -> torch.Tensor:
        last = len(self.layers) - 1
        for i, layer in enumerate(self.layers):
            out = layer(x) if lengths is None else layer(x, lengths=lengths)  # padded sequences (issue 27)
            if self.residual and out.shape == x.shape:
                out = out + x
            x = self.dropout(out) if i < last else out
        return x

    def extra_repr(self) -> str:
        return f"residual={self.residual}"


@register("layer", "stacked_rnn", aliases=("stacked",))
class StackedRecurrentSpec(spec_base(StackedRecurrent, LayerSpec, exclude=("layers",))):  # type: ignore[misc]  # spec_base's base
    """``num_layers`` copies of a sequence layer, each reading the outputs of the one below (Graves et al., 2013).
    ``dropout`` and ``residual`` are :class:`StackedRecurrent`'s, with its defaults and bounds.

    Args:
        layer: the sequence layer (``rnn``, ``lstm``, ``gru``, ``bidirectional``, ...).
        num_layers: copies, each with its own weights.
        return_sequences: the last layer's (default: ``layer``'s own setting).

    Shape: ``(N, L, F) -> (N, L, H)`` or ``(N, H)``.
    """

    layer: component("layer")
    num_layers: count() = 2
    return_sequences: bool | None = None

    @model_validator(mode="after")
    def _check(self) -> StackedRecurrentSpec:
        if self.layer.arity != 1:
            raise_problems(
                "stacked_rnn", [(("layer",), f"{self.layer.type_name} joins several inputs; stack a sequence layer")]
            )
        return self

    def layer_specs(self) -> list[LayerSpec]:
        """The copies' specs: sequences out of all but the last."""
        last = self.layer if self.return_sequences is None else with_sequences(self.layer, self.return_sequences)
        return [with_sequences(self.layer, True)] * (self.num_layers - 1) + [last]

    def _shapes(self, input_shape: Shape) -> list[Shape]:
        require_sequence(input_shape, "a stacked recurrent layer")
        shapes, shape = [], tuple(input_shape)
        for i, spec in enumerate(self.layer_specs()):
            try:
                shape = tuple(spec.output_shape(shape))
            except ShapeError as err:
                raise ShapeError(f"layer {i} ({spec.type_name}): {err}") from None
            if i < self.num_layers - 1 and len(shape) != 2:
                raise ShapeError(
                    f"layer {i} ({spec.type_name}) maps the sequence to {fmt_shape(shape)}; the layers "
                    "below the top must return sequences (L, H)"
                )
            shapes.append(shape)
        return shapes

    def output_shape(self, input_shape: Shape) -> Shape:
        """The top copy's output shape: ``(L, F) -> (L, H)`` or ``(H,)``."""
        return self._shapes(input_shape)[-1]

    def build(self, input_shape: Shape) -> nn.Module:
        """A :class:`StackedRecurrent` of the copies, each built on the output shape of the one below."""
        shapes = [tuple(input_shape), *self._shapes(input_shape)]
        layers = [spec.build(shape) for spec, shape in zip(self.layer_specs(), shapes)]
        return StackedRecurrent(layers, **self.options())
