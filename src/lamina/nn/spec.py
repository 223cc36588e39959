"""The base of every layer spec: options validated from the config, a shape rule, and ``build``."""

from __future__ import annotations

import math
from typing import ClassVar

import torch
from torch import nn

from lamina.config.fields import identifier
from lamina.config.spec import Spec
from lamina.errors import ShapeError

__all__ = ["LayerSpec", "MergeSpec", "Shape", "require_rank", "fmt_shape"]

Shape = tuple[int, ...]  # one example's shape, without the batch dimension


def fmt_shape(shape: Shape) -> str:
    """``(1, 28, 28)`` -> ``(1, 28, 28)``; ``(10,)`` -> ``(10,)`` (as Python prints tuples)."""
    return str(tuple(shape))


def require_rank(shape: Shape, ranks: int | tuple[int, ...], what: str, hint: str = "") -> None:
    """Raise a :class:`ShapeError` unless ``shape`` has one of ``ranks`` dimensions."""
    ranks = (ranks,) if isinstance(ranks, int) else ranks
    if len(shape) not in ranks:
        names = {1: "(features,)", 2: "(channels, length)", 3: "(channels, height, width)"}
        expected = " or ".join(names.get(r, f"{r} dimensions") for r in ranks)
        raise ShapeError(f"expects input of shape {expected} for {what}, got {fmt_shape(shape)}{hint}")


class LayerSpec(Spec):
    """A layer of a model config. Subclasses define the options and

    - ``output_shape(input_shape)``: the output shape of one example, raising :class:`ShapeError` on
      input it cannot take (the builder adds the layer's path to the message);
    - ``build(input_shape)``: the ``torch.nn.Module``, its input size inferred from ``input_shape``.

    Args:
        name: the module's name in the built model (``dense_0`` if not given); required for DAG nodes.
        inputs: DAG models only: the names of the nodes (or model inputs) this layer reads.
    """

    arity: ClassVar[int] = 1  # inputs the layer takes; 0 means "two or more" (merge layers)
    input_dtype: ClassVar[torch.dtype] = torch.float32

    name: identifier | None = None
    inputs: list[str] | None = None

    def output_shape(self, input_shape: Shape) -> Shape:
        """Output shape of one example, found by running the layer on a zero batch of two."""
        module = self.build(input_shape).eval()
        with torch.no_grad():
            out = module(torch.zeros((2, *input_shape), dtype=self.input_dtype))
        return tuple(out.shape[1:])

    def build(self, input_shape: Shape) -> nn.Module:
        """The module for inputs of ``input_shape`` (one example, no batch dimension)."""
        raise NotImplementedError(f"{type(self).__name__} must define build(input_shape)")


class MergeSpec(LayerSpec):
    """A layer joining two or more inputs (``concat``, ``add``, ...): shape rule and build take a list."""

    arity: ClassVar[int] = 0

    def output_shape(self, input_shape: list[Shape]) -> Shape:  # type: ignore[override]
        """The output shape for the inputs' shapes."""
        raise NotImplementedError

    def build(self, input_shape: list[Shape]) -> nn.Module:  # type: ignore[override]
        """The module joining inputs of these shapes."""
        raise NotImplementedError


def fan_in_out(weight: torch.Tensor) -> tuple[int, int]:
    """Fan-in and fan-out of a dense (out, in) or convolution (out, in, *kernel) weight."""
    if weight.dim() < 2:
        raise ValueError(f"fan-in and fan-out need a weight of 2 or more dimensions, got shape {tuple(weight.shape)}")
    receptive = math.prod(weight.shape[2:]) if weight.dim() > 2 else 1
    return weight.shape[1] * receptive, weight.shape[0] * receptive
