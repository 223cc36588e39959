"""Layer stacks inside a layer: the branches of a block (``residual``, ``inception``, ``stacked``, ...) are lists of
layer tables, validated and built with the same rules as ``[model] layers``, so a block composes with every
registered layer::

    { type = "residual", layers = [
        { type = "conv2d", filters = 16, kernel_size = 3, padding = 1 },
        { type = "batchnorm" }, { type = "relu" },
    ] }

Shape errors name the block and the inner layer: ``model.layers[2] (residual): layers[1] (conv2d): ...``.
"""

from __future__ import annotations

from collections.abc import Sequence

from torch import nn

from lamina.errors import ShapeError
from lamina.nn.builder import Stack, describe_layer
from lamina.nn.spec import LayerSpec, Shape, fmt_shape

__all__ = ["nested_problems", "stack_shapes", "build_stack", "block_label", "require_sequence"]


def nested_problems(layers: Sequence[LayerSpec] | None, where: tuple) -> list[tuple[tuple, str]]:
    """Problems of a nested layer list: merge layers, DAG wiring and repeated names have no place inside a block."""
    problems, names = [], set()
    for i, layer in enumerate(layers or []):
        if layer.name is not None and layer.name in names:
            problems.append(((*where, i, "name"), f"name {layer.name!r} is used twice in this block"))
        names.add(layer.name)
        if layer.arity == 0:
            problems.append(((*where, i), f"{layer.type_name} joins several inputs: not usable inside a block"))
        if layer.inputs:
            problems.append(((*where, i, "inputs"), "`inputs` wires DAG nodes; a block's layers run in order"))
    return problems


def stack_shapes(layers: Sequence[LayerSpec], input_shape: Shape, where: str = "layers") -> list[Shape]:
    """The output shape after each of ``layers`` (an empty list gives ``[]``: the identity)."""
    shapes, shape = [], tuple(input_shape)
    for i, layer in enumerate(layers):
        try:
            shape = tuple(layer.output_shape(shape))
        except ShapeError as err:
            raise ShapeError(f"{where}[{i}] ({layer.type_name}): {err}") from None
        shapes.append(shape)
    return shapes


def build_stack(layers: Sequence[LayerSpec], input_shape: Shape, where: str = "layers") -> nn.Module:
    """``layers`` built in order as a :class:`~lamina.nn.builder.Stack` (``nn.Identity`` when empty)."""
    if not layers:
        return nn.Identity()
    shapes = stack_shapes(layers, input_shape, where)
    modules, shape = {}, tuple(input_shape)
    for i, (layer, out) in enumerate(zip(layers, shapes)):
        modules[layer.name or f"{layer.type_name}_{i}"] = layer.build(shape)
        shape = out
    return Stack(modules, input_shape, shapes, [describe_layer(layer) for layer in layers])


def block_label(spec: LayerSpec) -> str:
    """``inception 'inc3a'`` or ``inception``: how messages name a block."""
    return f"{spec.type_name} {spec.name!r}" if spec.name else spec.type_name


def require_sequence(shape: Shape, what: str) -> None:
    """Raise a :class:`ShapeError` unless ``shape`` is a sequence of feature vectors ``(length, features)``."""
    if len(shape) != 2:
        raise ShapeError(f"expects a sequence of shape (length, features) for {what}, got {fmt_shape(shape)}")
