"""The layer graph behind ``lamina draw``: node and edge counts against the model's config, counted by hand here for
stacks, DAGs, inception and residual blocks, and parameter totals against the model's."""

from __future__ import annotations

import pytest
from torch import nn

from lamina.nn import build_model
from lamina.nn.layer_graph import layer_graph
from lamina.nn.summary import count_parameters

DENSE = {"type": "dense", "units": 4, "activation": "relu"}


def test_a_stack_is_a_chain_from_its_input():
    layers = [{"type": "flatten"}, DENSE, DENSE, {"type": "dense", "units": 2}]
    model = build_model(layers, input_shape=(1, 3, 3))
    g = layer_graph(model)
    assert len(g.nodes) == len(layers) + 1 and len(g.edges) == len(layers)
    ids = [n.id for n in g.nodes]
    assert g.edges == list(zip(ids, ids[1:]))  # each layer reads the one before
    assert [n.kind for n in g.nodes] == ["input", "flatten", "dense (relu)", "dense (relu)", "dense"]
    assert [n.shape for n in g.nodes] == ["(1, 3, 3)", "(9,)", "(4,)", "(4,)", "(2,)"]
    assert g.parameters == count_parameters(model) == (9 * 4 + 4) + (4 * 4 + 4) + (4 * 2 + 2)


def test_a_dag_keeps_its_wiring():
    spec = {
        "inputs": ["image", "meta"],
        "outputs": ["digit", "parity"],
        "nodes": [
            {"name": "flat", "type": "flatten", "inputs": ["image"]},
            {"name": "joined", "type": "concat", "inputs": ["flat", "meta"]},
            {"name": "hidden", "type": "dense", "units": 8, "activation": "tanh"},  # reads `joined`
            {"name": "digit", "type": "dense", "units": 10, "inputs": ["hidden"]},
            {"name": "parity", "type": "dense", "units": 2, "inputs": ["hidden"]},
        ],
    }
    model = build_model(spec, {"image": (1, 2, 2), "meta": (3,)})
    g = layer_graph(model)
    assert len(g.nodes) == 2 + 5  # two inputs, five nodes
    assert sorted(g.edges) == sorted(
        [("image", "flat"), ("flat", "joined"), ("meta", "joined"), ("joined", "hidden"), ("hidden", "digit"),
         ("hidden", "parity")]
    )  # fmt: skip
    assert g.parameters == count_parameters(model)


@pytest.mark.parametrize("lengths", [(1, 2), (1, 3, 2), (2, 0)])
def test_inception_forks_into_its_branches_and_joins_them(lengths):
    conv = {"type": "conv2d", "filters": 2, "kernel_size": 1}
    branches = [[conv] * n for n in lengths]
    model = build_model([{"type": "inception", "branches": branches}, {"type": "flatten"}], input_shape=(1, 4, 4))
    g = layer_graph(model)
    layers = sum(lengths)
    # input, every branch layer, the concat, the flatten
    assert len(g.nodes) == 1 + layers + 1 + 1
    # one edge into each branch layer, one from each branch's end (or the input, for an empty branch) to the concat,
    # one from the concat to the flatten
    assert len(g.edges) == layers + len(lengths) + 1
    concat = next(n.id for n in g.nodes if n.kind == "concat")
    assert len([e for e in g.edges if e[1] == concat]) == len(lengths)
    assert g.parameters == count_parameters(model)
    folded = layer_graph(model, expand=False)
    assert (len(folded.nodes), len(folded.edges)) == (3, 2) and folded.parameters == g.parameters


@pytest.mark.parametrize(("filters", "projects"), [(1, False), (3, True)])
def test_residual_runs_branch_and_shortcut_into_a_sum(filters, projects):
    branch = [{"type": "conv2d", "filters": filters, "kernel_size": 3, "padding": 1}, {"type": "relu"}] * 2
    model = build_model([{"type": "residual", "layers": branch}], input_shape=(1, 4, 4))
    g = layer_graph(model)
    # input, the branch's 4 layers, the projection (if any), the add, the activation after it
    assert len(g.nodes) == 1 + 4 + projects + 1 + 1
    # 4 along the branch (from the input), branch end -> add, shortcut -> add (+ input -> projection), add -> relu
    assert len(g.edges) == 4 + 1 + 1 + projects + 1
    add = next(n.id for n in g.nodes if n.kind == "add")
    into_add = sorted(src for src, dst in g.edges if dst == add)
    assert ("input" in into_add) == (not projects)  # an identity shortcut reads the block's input directly
    assert g.parameters == count_parameters(model)


def test_any_module_draws():
    seq = nn.Sequential(nn.Linear(3, 4), nn.ReLU(), nn.Linear(4, 1))
    g = layer_graph(seq)
    assert [n.kind for n in g.nodes] == ["input", "Linear", "ReLU", "Linear"] and len(g.edges) == 3
    single = layer_graph(nn.LSTM(3, 5))
    assert len(single.nodes) == 2 and single.parameters == count_parameters(nn.LSTM(3, 5))
