"""The basic layers: dense, flatten, reshape, dropout and embedding."""

from __future__ import annotations

import math
from collections import OrderedDict
from collections.abc import Sequence
from typing import ClassVar

import torch
from pydantic import model_validator
from torch import nn

from lamina.config.component import spec_base, validated
from lamina.config.fields import component, count, number, raise_problems
from lamina.errors import ShapeError
from lamina.nn.activations import activation_module
from lamina.nn.init import initialize
from lamina.nn.max_norm import apply_max_norm
from lamina.nn.spec import LayerSpec, Shape, fmt_shape, require_rank
from lamina.nn.weight_norm import apply_weight_norm
from lamina.registry import register

__all__ = [
    "check_one_norm",
    "DenseSpec",
    "FlattenSpec",
    "ReshapeSpec",
    "DropoutSpec",
    "EmbeddingSpec",
    "Reshape",
    "with_activation",
]


def with_activation(module: nn.Module, activation) -> nn.Module:
    """``module`` followed by ``activation`` (a spec or ``None``) as one named block."""
    act = activation_module(activation)
    if act is None:
        return module
    return nn.Sequential(OrderedDict(linear=module, activation=act))


def check_one_norm(spec, layer: str) -> None:
    """Refuse ``weight_norm = true`` with ``max_norm`` on one layer: weight norm computes the weight that max-norm
    would project (raises the experiment file's validation error)."""
    if spec.weight_norm and spec.max_norm is not None:
        raise_problems(
            layer,
            [(("max_norm",), "max_norm projects a stored weight and weight_norm computes it; set one of the two")],
        )


@register("layer", "dense", aliases=("fully_connected",))
class DenseSpec(LayerSpec):
    """Fully connected layer: ``y = f(x W^T + b)``.

    Args:
        units: output features.
        activation: applied after the affine map (``None``: linear output, as an output layer wants).
        init: weight initializer (``None``: torch's default, U(-1/sqrt(fan_in), 1/sqrt(fan_in))).
        bias: whether to learn ``b``.
        bias_init: bias initializer (``None``: torch's default).
        weight_norm: learn each unit's weights as ``g v / ||v||`` (Salimans & Kingma, 2016).
        max_norm: after every optimizer step, rescale each unit's incoming weight vector whose L2 norm exceeds this
            to this norm (Srivastava et al., 2014, use 3 to 4 with dropout; Keras' ``MaxNorm``); ``None``: off.

    Shape: ``(N, in_features) -> (N, units)``.
    """

    target_class: ClassVar[type] = nn.Linear  # lamina's `units` is its out_features (see the consistency test)

    units: count()
    activation: component("activation") | None = None
    init: component("initializer") | None = None
    bias: bool = True
    bias_init: component("initializer") | None = None
    weight_norm: bool = False
    max_norm: number(0, lo_open=True) | None = None

    @model_validator(mode="after")
    def _one_norm(self) -> DenseSpec:
        check_one_norm(self, "dense")
        return self

    def output_shape(self, input_shape: Shape) -> Shape:
        """``(in_features,) -> (units,)``; an image must be flattened first."""
        require_rank(input_shape, 1, "a dense layer", hint='; add { type = "flatten" } before it')
        return (self.units,)

    def build(self, input_shape: Shape) -> nn.Module:
        """``nn.Linear(in_features, units)`` (initialised as asked), then the activation."""
        linear = initialize(nn.Linear(input_shape[0], self.units, bias=self.bias), self.init, self.bias_init)
        if self.weight_norm:
            apply_weight_norm(linear)  # after the initializer: g starts at the initial weights' norms
        if self.max_norm is not None:
            apply_max_norm(linear, self.max_norm)
        return with_activation(linear, self.activation)


@register("layer", "flatten")
class FlattenSpec(LayerSpec):
    """Flatten each example to a vector. Shape: ``(N, *dims) -> (N, prod(dims))``. No options: torch's
    ``nn.Flatten`` with its defaults (every dimension after the batch's)."""

    target_class: ClassVar[type] = nn.Flatten

    def output_shape(self, input_shape: Shape) -> Shape:
        """``(*dims) -> (prod(dims),)``."""
        return (math.prod(input_shape),)

    def build(self, input_shape: Shape) -> nn.Module:
        """``nn.Flatten()``."""
        return nn.Flatten(**self.options())


class Reshape(nn.Module):
    """Reshape each example to ``shape`` (the batch dimension is kept).

    Args:
        shape: the new shape of one example, e.g. ``[1, 28, 28]`` after a dense layer of 784 units; one entry may be
            -1 (the size that keeps the number of values).
    """

    @validated
    def __init__(self, shape: Sequence[int]) -> None:
        super().__init__()
        self.shape = tuple(shape)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x.reshape(x.shape[0], *self.shape)

    def extra_repr(self) -> str:
        return f"shape={self.shape}"


@register("layer", "reshape")
class ReshapeSpec(spec_base(Reshape, LayerSpec)):  # type: ignore[misc]  # a base made by spec_base
    """Reshape each example, e.g. ``shape = [1, 28, 28]`` after a dense layer of 784 units; one entry may be -1.
    ``shape`` is :class:`Reshape`'s; the layer gets it with the -1 resolved from the input's size."""

    def output_shape(self, input_shape: Shape) -> Shape:
        """``shape`` with a -1 resolved; the number of values must not change."""
        size, target = math.prod(input_shape), list(self.shape)
        if target.count(-1) > 1 or any(d == 0 or d < -1 for d in target):
            raise ShapeError(f"shape {target} may hold one -1 and otherwise positive sizes")
        known = math.prod(d for d in target if d != -1)
        if -1 in target:
            if size % known:
                raise ShapeError(f"cannot reshape {fmt_shape(input_shape)} ({size} values) to {target}")
            target[target.index(-1)] = size // known
        if math.prod(target) != size:
            raise ShapeError(f"cannot reshape {fmt_shape(input_shape)} ({size} values) to {target}")
        return tuple(target)

    def build(self, input_shape: Shape) -> nn.Module:
        """A :class:`Reshape` to the resolved shape."""
        return Reshape(**self.options(shape=self.output_shape(input_shape)))


@register("layer", "dropout")
class DropoutSpec(LayerSpec):
    """Zero each activation with probability ``p`` during training, scaling the rest by 1/(1-p)
    (Srivastava et al., 2014). Shape unchanged. ``p``: ``torch.nn.Dropout``'s, with its default."""

    target_class: ClassVar[type] = nn.Dropout

    p: number(0, 1, hi_open=True) = 0.5

    def output_shape(self, input_shape: Shape) -> Shape:
        """The input shape."""
        return input_shape

    def build(self, input_shape: Shape) -> nn.Module:
        """``nn.Dropout(p)``."""
        return nn.Dropout(**self.options())


@register("layer", "embedding")
class EmbeddingSpec(LayerSpec):
    """Look up a learned vector for each integer token.

    Args:
        num_embeddings: vocabulary size (tokens are ``0 .. num_embeddings - 1``).
        embedding_dim: the vector size.
        padding_idx: a token whose vector stays zero and gets no gradient.
        init: initializer of the vectors (``None``: torch's N(0, 1)).

    The options but ``init`` are ``torch.nn.Embedding``'s keywords, with its defaults.

    Shape: ``(N, *) -> (N, *, embedding_dim)``, integer input.
    """

    input_dtype: ClassVar[torch.dtype] = torch.long
    target_class: ClassVar[type] = nn.Embedding

    num_embeddings: count()
    embedding_dim: count()
    padding_idx: count(0) | None = None
    init: component("initializer") | None = None

    def output_shape(self, input_shape: Shape) -> Shape:
        """``(*) -> (*, embedding_dim)``."""
        return (*input_shape, self.embedding_dim)

    def build(self, input_shape: Shape) -> nn.Module:
        """``nn.Embedding`` (initialised as asked)."""
        emb = nn.Embedding(**self.options())
        return initialize(emb, self.init)
