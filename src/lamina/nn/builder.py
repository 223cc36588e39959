"""Build a ``torch.nn.Module`` from a model config, inferring every layer's input size from the data's shape.

A stack (``[model] layers = [...]``) becomes a :class:`Stack` (an ``nn.Sequential``); nodes
(``[[model.nodes]]``) become a :class:`~lamina.nn.graph.Graph`. Shape problems name the layer and both shapes::

    model.layers[2] (conv2d): expects input of shape (channels, height, width) for a 2-D convolution, got (500,)
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Mapping, Sequence
from typing import Any

from pydantic import ValidationError, model_validator
from torch import nn

from lamina.config.fields import component, identifier, raise_problems
from lamina.config.problems import problems_from
from lamina.config.spec import Section
from lamina.errors import ConfigError, ShapeError
from lamina.nn.graph import Graph, graph_problems, node_inputs, topological_order
from lamina.nn.spec import LayerSpec, Shape, fmt_shape

__all__ = ["ModelConfig", "ObjectiveStack", "Stack", "build_model", "layer_shapes"]


class ModelConfig(Section):
    """The ``[model]`` section: a stack of ``layers``, or DAG ``nodes`` with named ``inputs`` and ``outputs``.

    Args:
        layers: layers applied in order (each a table with ``type`` and the layer's options).
        nodes: DAG nodes, each a layer table with a ``name`` and the ``inputs`` it reads.
        inputs: names of the model inputs, in the order the data provides them (DAG only).
        outputs: nodes the model returns (DAG only; default: the last node).
    """

    layers: list[component("layer")] | None = None
    nodes: list[component("layer")] | None = None
    inputs: list[identifier] = ["input"]
    outputs: list[str] | None = None

    @model_validator(mode="after")
    def _check_structure(self) -> ModelConfig:
        if self.layers is not None and self.nodes is not None:
            raise_problems("model", [((), "give either `layers` (a stack) or `[[model.nodes]]` (a DAG), not both")])
        if self.layers is None and self.nodes is None:
            raise_problems("model", [((), "needs `layers = [...]` (a stack) or `[[model.nodes]]` (a DAG)")])
        if self.layers is not None:
            problems = [
                (("layers", i, "inputs"), "`inputs` wires DAG nodes; use [[model.nodes]] for a DAG")
                for i, layer in enumerate(self.layers)
                if layer.inputs
            ]
            problems += [
                (("layers", i), "joins several inputs: only usable in a DAG ([[model.nodes]])")
                for i, layer in enumerate(self.layers)
                if layer.arity == 0
            ]
            if self.outputs is not None:
                problems.append((("outputs",), "`outputs` names DAG nodes; a stack returns its last layer"))
            raise_problems("model", problems)
        else:
            raise_problems("model", graph_problems(self.nodes, self.inputs, self.outputs))
        return self


class Stack(nn.Sequential):
    """An ``nn.Sequential`` built from a layer stack, remembering the shape after each layer.

    Attributes:
        input_shape: one example's input shape.
        shapes: the output shape of each layer, in order.
        kinds: each layer's config type, e.g. ``dense (relu)``, for summaries.
    """

    def __init__(
        self,
        layers: Mapping[str, nn.Module],
        input_shape: Shape,
        shapes: Sequence[Shape],
        kinds: Sequence[str] | None = None,
    ) -> None:
        super().__init__(OrderedDict(layers))
        self.input_shape = tuple(input_shape)
        self.shapes = [tuple(s) for s in shapes]
        self.kinds = list(kinds) if kinds is not None else [type(m).__name__ for m in self.children()]

    def __getitem__(self, idx: Any) -> Any:
        """A layer by index or name, or a slice of consecutive layers as a ``Stack`` with its shapes (``model[:3]``
        is the first three layers, whose input shape is the model's); a slice with a step is a plain
        ``nn.Sequential``."""
        if not isinstance(idx, slice):
            return super().__getitem__(idx)
        names = list(self._modules)
        start, stop, step = idx.indices(len(names))
        if step != 1:
            return nn.Sequential(OrderedDict((n, self._modules[n]) for n in names[idx]))
        input_shape = self.input_shape if start == 0 else self.shapes[start - 1]
        chosen = OrderedDict((n, self._modules[n]) for n in names[start:stop])
        return Stack(chosen, input_shape, self.shapes[start:stop], self.kinds[start:stop])


class ObjectiveStack(Stack):
    """A stack whose last layer trains on its own objective (a ``vae`` layer's negative ELBO): the trainer minimises
    :meth:`training_loss`, that layer's ``training_loss`` on the output of the layers before it, and ``[train] loss``
    is not used. ``forward`` is the plain stack's."""

    def _front(self, x: Any) -> Any:
        for module in list(self)[:-1]:
            x = module(x)
        return x

    @property
    def objective_name(self) -> str | None:
        """The last layer's name for its objective (``negative_elbo``), logged beside ``loss``."""
        return getattr(self[-1], "objective_name", None)

    def training_loss(self, batch: Any) -> Any:
        """The last layer's ``training_loss((front(x), y))`` on ``batch = (x, y)``."""
        x, y = batch if isinstance(batch, (tuple, list)) else (batch, None)
        return self[-1].training_loss((self._front(x), y))

    def validation_metrics(self, batch: Any) -> dict[str, Any]:
        """The last layer's ``validation_metrics`` (or ``{"loss": training_loss}``) on the front's output."""
        x, y = batch if isinstance(batch, (tuple, list)) else (batch, None)
        own = getattr(self[-1], "validation_metrics", None)
        if own is None:
            return {"loss": self[-1].training_loss((self._front(x), y)).detach()}
        return own((self._front(x), y))


def _as_config(spec: Any) -> ModelConfig:
    if isinstance(spec, ModelConfig):
        return spec
    if isinstance(spec, (list, tuple)):
        spec = {"layers": list(spec)}
    try:
        return ModelConfig.model_validate(spec)
    except ValidationError as err:
        raise ConfigError(problems_from(err, prefix="model")) from None


def _shape_of(spec: LayerSpec, shape: Any, where: str) -> Shape:
    try:
        return tuple(spec.output_shape(shape))
    except ShapeError as err:
        raise ShapeError(f"{where} ({spec.type_name}): {err}") from None


def describe_layer(spec: LayerSpec) -> str:
    """``dense (relu)``: a layer's type, with its activation if it has one."""
    activation = getattr(spec, "activation", None)
    if activation is None:
        return spec.type_name
    return f"{spec.type_name} ({getattr(activation, 'type_name', activation)})"  # a table, or a plain name option


def _default_names(specs: Sequence[LayerSpec]) -> list[str]:
    return [spec.name or f"{spec.type_name}_{i}" for i, spec in enumerate(specs)]


def layer_shapes(spec: Any, input_shape: Shape) -> list[Shape]:
    """The output shape of each layer of a stack, without building it (raises :class:`ShapeError`)."""
    cfg, shapes, shape = _as_config(spec), [], tuple(input_shape)
    for i, layer in enumerate(cfg.layers or []):
        shape = _shape_of(layer, shape, f"model.layers[{i}]")
        shapes.append(shape)
    return shapes


def build_model(spec: Any, input_shape: Shape | Mapping[str, Shape] | Sequence[Shape]) -> nn.Module:
    """Build the model a config describes, for inputs of ``input_shape`` (one example, no batch dimension).

    Args:
        spec: a :class:`ModelConfig`, a ``{"layers": [...]}`` / ``{"nodes": [...]}`` table, or a list of layer
            tables (a stack).
        input_shape: ``(1, 28, 28)``; for a DAG with several inputs, a mapping from input name to shape (or
            the shapes in the order of ``inputs``).

    Returns:
        A :class:`Stack` (an :class:`ObjectiveStack` when its last layer has its own ``training_loss``, as ``vae``
        does) or a :class:`~lamina.nn.graph.Graph`.

    Raises:
        ConfigError: the spec does not validate. ShapeError: layers whose shapes do not chain.

    Example:
        >>> model = build_model([{"type": "flatten"}, {"type": "dense", "units": 10}], input_shape=(1, 28, 28))
    """
    cfg = _as_config(spec)
    if cfg.layers is not None:
        if isinstance(input_shape, Mapping) or (input_shape and not isinstance(input_shape[0], int)):
            raise ShapeError(f"a layer stack takes one input, got input shapes {input_shape}")
        modules, shapes, shape = {}, [], tuple(input_shape)
        for i, (name, layer) in enumerate(zip(_default_names(cfg.layers), cfg.layers)):
            out = _shape_of(layer, shape, f"model.layers[{i}]")
            modules[name] = layer.build(shape)
            shapes.append(out)
            shape = out
        kinds = [describe_layer(layer) for layer in cfg.layers]
        own_objective = hasattr(modules[next(reversed(modules))], "training_loss") if modules else False
        return (ObjectiveStack if own_objective else Stack)(modules, input_shape, shapes, kinds)
    return _build_graph(cfg, input_shape)


def _build_graph(cfg: ModelConfig, input_shape: Any) -> Graph:
    if isinstance(input_shape, Mapping):
        missing = [n for n in cfg.inputs if n not in input_shape]
        if missing:
            raise ShapeError(f"no shape given for model input(s) {missing}; got shapes for {list(input_shape)}")
        shapes = {n: tuple(input_shape[n]) for n in cfg.inputs}
    else:
        given = [input_shape] if input_shape and isinstance(input_shape[0], int) else list(input_shape)
        if len(given) != len(cfg.inputs):
            raise ShapeError(
                f"the model has {len(cfg.inputs)} inputs ({', '.join(cfg.inputs)}), got {len(given)} input shapes"
            )
        shapes = {n: tuple(s) for n, s in zip(cfg.inputs, given)}
    wiring = node_inputs(cfg.nodes, cfg.inputs)
    modules: dict[str, nn.Module] = {}
    for i in topological_order(cfg.nodes, wiring, cfg.inputs):
        node, srcs = cfg.nodes[i], wiring[i]
        where = f"model.nodes[{i}] '{node.name}'"
        arg = [shapes[s] for s in srcs] if node.arity == 0 else shapes[srcs[0]]
        shapes[node.name] = _shape_of(node, arg, where)
        modules[node.name] = node.build(arg)
    outputs = cfg.outputs or [cfg.nodes[-1].name]
    graph = Graph(cfg.inputs, modules, {cfg.nodes[i].name: wiring[i] for i in range(len(cfg.nodes))}, outputs)
    graph.shapes = {name: shapes[name] for name in modules}
    graph.kinds = {cfg.nodes[i].name: describe_layer(cfg.nodes[i]) for i in range(len(cfg.nodes))}
    graph.input_shape = {n: shapes[n] for n in cfg.inputs}
    return graph


def describe_shape(shape: Any) -> str:
    """A shape, or a mapping of named shapes, as text."""
    if isinstance(shape, Mapping):
        return ", ".join(f"{k}: {fmt_shape(v)}" for k, v in shape.items())
    return fmt_shape(shape)
