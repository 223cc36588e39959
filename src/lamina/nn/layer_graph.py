"""A model's layers as a graph of nodes and edges, the data behind :func:`lamina.draw` (the "graph visualisation" of
Theano's ``d3viz``, TensorBoard's graph tab and Keras' ``plot_model``).

A :class:`~lamina.nn.builder.Stack` is a chain from its input; a :class:`~lamina.nn.graph.Graph` keeps its
wiring; blocks with branches are opened up: an :class:`~lamina.nn.inception.Inception` forks into its branches
and joins them in a ``concat`` node, a :class:`~lamina.nn.residual.Residual` block runs its pre-activation, its
branch and its shortcut (identity or projection) into an ``add`` node, then its activation. Any other module is
one node (a layer with its activation too); a plain ``nn.Sequential`` given as the model (one not built by lamina)
is a chain of its children.

Each node carries its label (name and kind), output shape where the builder recorded one, and the parameters of
the module it stands for, so the counts of a drawing add up to the model's.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from torch import nn

from lamina.nn.builder import Stack
from lamina.nn.graph import Graph
from lamina.nn.inception import Inception
from lamina.nn.residual import Residual
from lamina.nn.spec import fmt_shape
from lamina.nn.summary import count_parameters

__all__ = ["LayerGraph", "Node", "layer_graph"]


@dataclass(frozen=True)
class Node:
    """One box of a drawing.

    Attributes:
        id: unique within the graph, e.g. ``conv2d_0`` or ``inc.branches.1.conv2d_0``.
        name: the layer's name in its stack or DAG (``conv2d_0``), or ``input`` / ``concat`` / ``add``.
        kind: the layer's config type (``dense (relu)``) or module class; ``input`` for a model input.
        shape: its output shape for one example, ``""`` where unknown.
        parameters: scalar parameters of the module the node stands for (0 for inputs and joins).
    """

    id: str
    name: str
    kind: str
    shape: str = ""
    parameters: int = 0


@dataclass
class LayerGraph:
    """Nodes in an order where each follows its inputs, and the edges ``(from id, to id)`` between them."""

    nodes: list[Node] = field(default_factory=list)
    edges: list[tuple[str, str]] = field(default_factory=list)

    def add(self, node: Node, inputs: list[str]) -> str:
        """Append ``node`` with an edge from each of ``inputs``; returns its id."""
        self.nodes.append(node)
        self.edges += [(src, node.id) for src in inputs]
        return node.id

    @property
    def parameters(self) -> int:
        """Scalar parameters over all nodes (the model's count, for a graph :func:`layer_graph` made)."""
        return sum(n.parameters for n in self.nodes)


def _shape_text(shape: Any) -> str:
    return fmt_shape(shape) if shape is not None else ""


def _module_node(
    graph: LayerGraph,
    node_id: str,
    name: str,
    kind: str,
    shape: object,
    module: nn.Module,
    inputs: list[str],
    expand: bool,
) -> list[str]:
    """Add ``module`` (opened up if it is a block and ``expand``); returns the ids its output leaves from."""
    if expand and isinstance(module, Inception):
        ends = []
        for b, branch in enumerate(module.branches):
            ends += _chain(graph, branch, f"{node_id}.branches.{b}", inputs, expand) or inputs
        return [graph.add(Node(f"{node_id}.concat", "concat", "concat", _shape_text(shape)), ends)]
    if expand and isinstance(module, Residual):
        h = _chain(graph, module.pre, f"{node_id}.pre", inputs, expand) if module.pre is not None else inputs
        out = _chain(graph, module.branch, f"{node_id}.branch", h, expand) or h
        if module.drop_path is not None:
            out = [graph.add(Node(f"{node_id}.drop_path", "drop_path", "drop_path", _shape_text(shape)), out)]
        skip = (
            _module_node(graph, f"{node_id}.shortcut", "shortcut", "projection", shape, module.shortcut, h, expand)
            if module.shortcut is not None
            else inputs
        )
        joined = [graph.add(Node(f"{node_id}.add", "add", "add", _shape_text(shape)), out + skip)]
        if module.post is None:
            return joined
        post_kind = type(module.post).__name__.lower()
        post = Node(f"{node_id}.post", post_kind, post_kind, _shape_text(shape), count_parameters(module.post))
        return [graph.add(post, joined)]
    if expand and isinstance(module, Stack):
        return _chain(graph, module, node_id, inputs, expand) or inputs
    return [graph.add(Node(node_id, name, kind, _shape_text(shape), count_parameters(module)), inputs)]


def _chain(graph: LayerGraph, module: nn.Module, prefix: str, inputs: list[str], expand: bool) -> list[str]:
    """The layers of a stack one after another from ``inputs``; ``[]`` for an identity (no node)."""
    if isinstance(module, nn.Identity):
        return []
    if not isinstance(module, nn.Sequential):
        return _module_node(
            graph, prefix, type(module).__name__.lower(), type(module).__name__, None, module, inputs, expand
        )
    shapes = getattr(module, "shapes", None) or []
    kinds = getattr(module, "kinds", None) or []
    out = inputs
    for i, (name, child) in enumerate(module.named_children()):
        kind = kinds[i] if i < len(kinds) else type(child).__name__
        shape = shapes[i] if i < len(shapes) else None
        out = _module_node(graph, f"{prefix}.{name}" if prefix else name, name, kind, shape, child, out, expand)
    return out


def layer_graph(model: nn.Module, *, expand: bool = True) -> LayerGraph:
    """The layer graph of ``model``: a node per layer (and per model input), an edge per connection.

    Args:
        model: a model from :func:`~lamina.nn.build_model` (a :class:`~lamina.nn.builder.Stack` or a
            :class:`~lamina.nn.graph.Graph`) or any ``nn.Module`` (a ``Sequential`` is a chain of its children,
            anything else one node).
        expand: open up ``inception`` and ``residual`` blocks into their branches (``False``: one node each).

    Returns:
        A :class:`LayerGraph`; its nodes' parameters add up to the model's.

    Example:
        >>> from lamina.nn import build_model
        >>> g = layer_graph(build_model([{"type": "dense", "units": 3}], input_shape=(4,)))
        >>> [n.name for n in g.nodes], g.edges
        (['input', 'dense_0'], [('input', 'dense_0')])
    """
    graph = LayerGraph()
    if isinstance(model, Graph):
        shapes: Mapping = getattr(model, "shapes", {}) or {}
        kinds: Mapping = getattr(model, "kinds", {}) or {}
        in_shapes: Mapping = getattr(model, "input_shape", {}) or {}
        ends: dict[str, list[str]] = {}
        for name in model.input_names:
            ends[name] = [graph.add(Node(name, name, "input", _shape_text(in_shapes.get(name))), [])]
        for name, layer in model.layers.items():
            srcs = [end for src in model.wiring[name] for end in ends[src]]
            kind = kinds.get(name, type(layer).__name__)
            ends[name] = _module_node(graph, name, name, kind, shapes.get(name), layer, srcs, expand)
        return graph
    input_shape = getattr(model, "input_shape", None)
    start = graph.add(Node("input", "input", "input", _shape_text(input_shape)), [])
    if isinstance(model, nn.Sequential):
        _chain(graph, model, "", [start], expand)
    else:
        _module_node(
            graph,
            type(model).__name__.lower(),
            type(model).__name__.lower(),
            type(model).__name__,
            None,
            model,
            [start],
            expand,
        )
    return graph
