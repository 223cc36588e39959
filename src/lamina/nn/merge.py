"""Layers that join several inputs in a DAG model: concatenate, add, multiply, average."""

from __future__ import annotations

import torch
from torch import nn

from lamina.config.component import spec_base, validated
from lamina.errors import ShapeError
from lamina.nn.spec import MergeSpec, Shape, fmt_shape
from lamina.registry import register

__all__ = ["Concat", "Add", "Multiply", "Average", "ConcatSpec", "AddSpec", "MultiplySpec", "AverageSpec"]


class Concat(nn.Module):
    """Concatenate inputs along ``dim`` of each example (0: the first non-batch dimension).

    Args:
        dim: the per-example dimension to join along (-1: the last).
    """

    @validated
    def __init__(self, dim: int = -1) -> None:
        super().__init__()
        self.dim = dim

    def forward(self, *xs: torch.Tensor) -> torch.Tensor:
        return torch.cat(xs, dim=self.dim if self.dim < 0 else self.dim + 1)

    def extra_repr(self) -> str:
        return f"dim={self.dim}"


class Add(nn.Module):
    """Element-wise sum of the inputs (a residual join)."""

    def forward(self, *xs: torch.Tensor) -> torch.Tensor:
        out = xs[0]
        for x in xs[1:]:
            out = out + x
        return out


class Multiply(nn.Module):
    """Element-wise product of the inputs (a gate)."""

    def forward(self, *xs: torch.Tensor) -> torch.Tensor:
        out = xs[0]
        for x in xs[1:]:
            out = out * x
        return out


class Average(nn.Module):
    """Element-wise mean of the inputs (an ensemble)."""

    def forward(self, *xs: torch.Tensor) -> torch.Tensor:
        return Add()(*xs) / len(xs)


def _same_shapes(shapes: list[Shape], what: str) -> Shape:
    if len(set(map(tuple, shapes))) != 1:
        raise ShapeError(f"{what} needs inputs of one shape, got {', '.join(fmt_shape(s) for s in shapes)}")
    return shapes[0]


@register("layer", "concat", aliases=("concatenate",))
class ConcatSpec(spec_base(Concat, MergeSpec)):  # type: ignore[misc]  # a base made by spec_base
    """Concatenate along ``dim`` (per example; -1: the last). The other dimensions must agree. ``dim``:
    :class:`Concat`'s, with its default."""

    def output_shape(self, input_shape: list[Shape]) -> Shape:
        """The inputs' common shape with ``dim`` summed."""
        ranks = {len(s) for s in input_shape}
        rank = ranks.pop()
        if ranks or not -rank <= self.dim < rank:
            raise ShapeError(f"cannot concatenate {', '.join(fmt_shape(s) for s in input_shape)} along dim {self.dim}")
        d = self.dim % rank
        rest = {tuple(s[:d]) + tuple(s[d + 1 :]) for s in input_shape}
        if len(rest) != 1:
            raise ShapeError(
                f"concat along dim {self.dim} needs the other dimensions equal, got "
                + ", ".join(fmt_shape(s) for s in input_shape)
            )
        out = list(input_shape[0])
        out[d] = sum(s[d] for s in input_shape)
        return tuple(out)

    def build(self, input_shape: list[Shape]) -> nn.Module:
        """A :class:`Concat` along ``dim``."""
        return Concat(**self.options())


@register("layer", "add")
class AddSpec(spec_base(Add, MergeSpec)):  # type: ignore[misc]  # a base made by spec_base
    """Element-wise sum of inputs of one shape."""

    def output_shape(self, input_shape: list[Shape]) -> Shape:
        """The inputs' common shape."""
        return _same_shapes(input_shape, "add")

    def build(self, input_shape: list[Shape]) -> nn.Module:
        """An :class:`Add`."""
        return Add()


@register("layer", "multiply")
class MultiplySpec(spec_base(Multiply, MergeSpec)):  # type: ignore[misc]  # a base made by spec_base
    """Element-wise product of inputs of one shape."""

    def output_shape(self, input_shape: list[Shape]) -> Shape:
        """The inputs' common shape."""
        return _same_shapes(input_shape, "multiply")

    def build(self, input_shape: list[Shape]) -> nn.Module:
        """A :class:`Multiply`."""
        return Multiply()


@register("layer", "average")
class AverageSpec(spec_base(Average, MergeSpec)):  # type: ignore[misc]  # a base made by spec_base
    """Element-wise mean of inputs of one shape."""

    def output_shape(self, input_shape: list[Shape]) -> Shape:
        """The inputs' common shape."""
        return _same_shapes(input_shape, "average")

    def build(self, input_shape: list[Shape]) -> nn.Module:
        """An :class:`Average`."""
        return Average()
