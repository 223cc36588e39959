"""Model building: shape inference, shape errors naming the layer and both shapes, DAG models."""

from __future__ import annotations

import pytest
import torch
from torch.nn import functional as F

import lamina
from lamina.errors import ConfigError, ShapeError
from lamina.nn.convolution import conv_output_length


def test_stack_infers_input_sizes_and_records_shapes():
    model = lamina.build_model(
        [
            {"type": "conv2d", "filters": 6, "kernel_size": 5, "padding": 2, "activation": "tanh"},
            {"type": "max_pool2d", "kernel_size": 2},
            {"type": "flatten"},
            {"type": "dense", "units": 10},
        ],
        input_shape=(1, 28, 28),
    )
    assert model.shapes == [(6, 28, 28), (6, 14, 14), (6 * 14 * 14,), (10,)]
    assert model(torch.zeros(2, 1, 28, 28)).shape == (2, 10)
    assert list(dict(model.named_children())) == ["conv2d_0", "max_pool2d_1", "flatten_2", "dense_3"]


@pytest.mark.parametrize(
    "length, kernel, stride, padding, dilation",
    [
        (28, 5, 1, 0, 1),
        (28, 5, 2, 2, 1),
        (31, 3, 3, 1, 2),
        (10, 10, 1, 0, 1),
        (17, 4, 2, 3, 3),
    ],
)
def test_conv_output_length_matches_torch(length, kernel, stride, padding, dilation):
    out = F.conv1d(
        torch.zeros(1, 1, length), torch.zeros(1, 1, kernel), stride=stride, padding=padding, dilation=dilation
    )
    assert conv_output_length(length, kernel, stride, padding, dilation) == out.shape[-1]


def test_shape_mismatch_names_layer_and_both_shapes():
    with pytest.raises(ShapeError) as info:
        lamina.build_model(
            [{"type": "dense", "units": 500}, {"type": "conv2d", "filters": 4, "kernel_size": 3}], input_shape=(784,)
        )
    assert "model.layers[1] (conv2d)" in str(info.value)
    assert "(channels, height, width)" in str(info.value) and "(500,)" in str(info.value)


def test_dense_on_an_image_suggests_flatten():
    with pytest.raises(ShapeError, match=r"model.layers\[0\] \(dense\).*got \(1, 28, 28\).*flatten"):
        lamina.build_model([{"type": "dense", "units": 10}], input_shape=(1, 28, 28))


def test_kernel_larger_than_input():
    with pytest.raises(ShapeError, match=r"model.layers\[0\] \(conv2d\): kernel \[9, 9\].*does not fit"):
        lamina.build_model([{"type": "conv2d", "filters": 2, "kernel_size": 9}], input_shape=(1, 8, 8))


def test_build_model_reports_config_problems_as_config_error():
    with pytest.raises(ConfigError, match=r"model.layers\[0\].units"):
        lamina.build_model([{"type": "dense", "units": -3}], input_shape=(4,))


def test_dag_with_two_inputs_and_two_outputs():
    model = lamina.build_model(
        {
            "inputs": ["image", "meta"],
            "outputs": ["digit", "parity"],
            "nodes": [
                {"name": "flat", "type": "flatten", "inputs": ["image"]},
                {"name": "joined", "type": "concat", "inputs": ["flat", "meta"]},
                {"name": "hidden", "type": "dense", "units": 16, "activation": "relu"},  # reads "joined"
                {"name": "digit", "type": "dense", "units": 10, "inputs": ["hidden"]},
                {"name": "parity", "type": "dense", "units": 1, "inputs": ["hidden"]},
            ],
        },
        input_shape={"image": (1, 8, 8), "meta": (3,)},
    )
    digit, parity = model(torch.zeros(4, 1, 8, 8), torch.zeros(4, 3))
    assert digit.shape == (4, 10) and parity.shape == (4, 1)
    assert model.shapes["joined"] == (67,)


def test_dag_merge_shape_mismatch_names_node_and_shapes():
    with pytest.raises(ShapeError) as info:
        lamina.build_model(
            {"inputs": ["a", "b"], "nodes": [{"name": "sum", "type": "add", "inputs": ["a", "b"]}]},
            input_shape={"a": (4,), "b": (5,)},
        )
    assert "model.nodes[0] 'sum' (add)" in str(info.value) and "(4,), (5,)" in str(info.value)


def test_dag_nodes_listed_out_of_order_are_sorted():
    model = lamina.build_model(
        {
            "nodes": [
                {"name": "out", "type": "dense", "units": 2, "inputs": ["h"]},
                {"name": "h", "type": "dense", "units": 3, "inputs": ["input"]},
            ],
            "outputs": ["out"],
        },
        input_shape=(4,),
    )
    assert list(model.layers) == ["h", "out"] and model(torch.zeros(1, 4)).shape == (1, 2)


def test_summary_counts_parameters_per_layer():
    model = lamina.build_model([{"type": "flatten"}, {"type": "dense", "units": 5}], input_shape=(2, 3))
    rows = lamina.summarize(model)
    assert [(r.name, r.output_shape, r.parameters) for r in rows] == [("flatten_0", "(6,)", 0), ("dense_1", "(5,)", 35)]
    assert "total parameters: 35" in lamina.format_summary(model)


def test_slicing_a_stack_keeps_its_layers_and_shapes():
    """``model[:k]`` is the first k layers with their shapes, and applying it equals applying them one by one."""
    model = lamina.build_model(
        [
            {"type": "conv2d", "filters": 3, "kernel_size": 3},
            {"type": "flatten"},
            {"type": "dense", "units": 5, "activation": "relu"},
            {"type": "dense", "units": 2},
        ],
        input_shape=(1, 6, 6),
    )
    head, tail = model[:2], model[2:]
    assert isinstance(head, type(model)) and isinstance(tail, type(model))
    assert head.input_shape == (1, 6, 6) and head.shapes == model.shapes[:2]
    assert tail.input_shape == model.shapes[1] and tail.shapes == model.shapes[2:]
    assert head[0] is model[0] and tail[-1] is model[3]
    x = torch.randn(4, 1, 6, 6)
    by_hand = x
    for layer in model:
        by_hand = layer(by_hand)
    torch.testing.assert_close(tail(head(x)), by_hand)
    assert len(model[::2]) == 2
