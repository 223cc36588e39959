"""DAG models: layers wired by name, with several inputs and outputs (``[[model.nodes]]`` in TOML).

::

    [model]
    inputs = ["image", "meta"]
    outputs = ["digit", "parity"]
    [[model.nodes]]
    name = "flat"
    type = "flatten"
    inputs = ["image"]
    [[model.nodes]]
    name = "joined"
    type = "concat"
    inputs = ["flat", "meta"]
    ...
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import nn

from lamina.errors import ShapeError, did_you_mean
from lamina.nn.spec import LayerSpec

__all__ = ["Graph", "graph_problems", "node_inputs", "topological_order"]


def node_inputs(nodes: Sequence[LayerSpec], inputs: Sequence[str]) -> list[list[str]]:
    """Each node's inputs; a node without ``inputs`` reads the node listed before it (the first: ``inputs[0]``)."""
    wired, previous = [], inputs[0] if inputs else None
    for node in nodes:
        wired.append(list(node.inputs) if node.inputs else ([previous] if previous else []))
        previous = node.name
    return wired


def topological_order(nodes: Sequence[LayerSpec], wiring: list[list[str]], inputs: Sequence[str]) -> list[int] | None:
    """Indices of ``nodes`` in an order where each comes after its inputs; ``None`` if there is a cycle."""
    ready, order, pending = set(inputs), [], list(range(len(nodes)))
    while pending:
        progress = [i for i in pending if all(src in ready for src in wiring[i])]
        if not progress:
            return None
        for i in progress:
            ready.add(nodes[i].name)
            order.append(i)
        pending = [i for i in pending if i not in progress]
    return order


def graph_problems(nodes: Sequence[LayerSpec], inputs: Sequence[str], outputs: Sequence[str] | None):
    """Every wiring problem of a DAG, as ``(location, message)`` pairs relative to the model section."""
    problems, names = [], list(inputs)
    if not inputs:
        problems.append((("inputs",), "a DAG model needs at least one input name"))
    for i, node in enumerate(nodes):
        if node.name is None:
            problems.append((("nodes", i, "name"), "a DAG node needs a name"))
        elif node.name in names:
            problems.append((("nodes", i, "name"), f"name {node.name!r} is used twice"))
        names.append(node.name)
    known = [n for n in names if n is not None]
    wiring = node_inputs(nodes, inputs)
    for i, (node, srcs) in enumerate(zip(nodes, wiring)):
        for src in srcs:
            if src not in known:
                problems.append(
                    (
                        ("nodes", i, "inputs"),
                        f"{src!r} is not an input or node;{did_you_mean(src, known)} defined: {', '.join(known)}",
                    )
                )
        if node.arity == 1 and len(srcs) != 1:
            problems.append(
                (
                    ("nodes", i, "inputs"),
                    f"a {node.type_name} layer takes one input, got {len(srcs)} "
                    f"({', '.join(srcs)}); join them first with concat, add or multiply",
                )
            )
        if node.arity == 0 and len(srcs) < 2:
            problems.append((("nodes", i, "inputs"), f"{node.type_name} joins two or more inputs, got {srcs}"))
    for j, out in enumerate(outputs or []):
        if out not in known:
            problems.append((("outputs", j), f"{out!r} is not a node;{did_you_mean(out, known)}"))
    if not problems and topological_order(nodes, wiring, inputs) is None:
        problems.append((("nodes",), "the nodes' inputs form a cycle; a DAG model must be acyclic"))
    return problems


class Graph(nn.Module):
    """A directed acyclic graph of layers.

    ``forward(*inputs)`` takes the model inputs in the order of ``input_names`` and returns the output named
    in ``output_names`` (a tuple when there are several).

    Args:
        input_names: names of the model inputs.
        layers: node name -> module, in an order where every node follows its inputs.
        wiring: node name -> the names it reads.
        output_names: the nodes returned.
    """

    def __init__(
        self,
        input_names: Sequence[str],
        layers: dict[str, nn.Module],
        wiring: dict[str, list[str]],
        output_names: Sequence[str],
    ) -> None:
        super().__init__()
        self.input_names = list(input_names)
        self.layers = nn.ModuleDict(layers)
        self.wiring = {k: list(v) for k, v in wiring.items()}
        self.output_names = list(output_names)

    def forward(self, *xs: torch.Tensor) -> torch.Tensor | tuple[torch.Tensor, ...]:
        if len(xs) != len(self.input_names):
            raise ShapeError(
                f"the model takes {len(self.input_names)} inputs ({', '.join(self.input_names)}), got {len(xs)}"
            )
        values = dict(zip(self.input_names, xs))
        for name, layer in self.layers.items():
            values[name] = layer(*(values[src] for src in self.wiring[name]))
        outs = tuple(values[name] for name in self.output_names)
        return outs[0] if len(outs) == 1 else outs

    def extra_repr(self) -> str:
        return f"inputs={self.input_names}, outputs={self.output_names}"
