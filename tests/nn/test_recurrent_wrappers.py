"""Bidirectional, stacked and time-distributed wrappers against torch's own multi-layer, bidirectional RNNs."""

from __future__ import annotations

import pytest
import torch

import lamina
from tests.nn.gradcheck_util import gradcheck_module


def _copy_direction(target: torch.nn.RNNBase, source: torch.nn.RNNBase, suffix: str) -> None:
    with torch.no_grad():
        for name in ("weight_ih", "weight_hh", "bias_ih", "bias_hh"):
            getattr(target, f"{name}_l0").copy_(getattr(source, f"{name}{suffix}"))


@pytest.mark.parametrize("kind", ["lstm", "gru", "rnn"])
@pytest.mark.parametrize("sequences", [True, False])
def test_bidirectional_wrapper_equals_a_torch_bidirectional_rnn(kind, sequences):
    torch.manual_seed(0)
    wrapper = lamina.build_model(
        [{"type": "bidirectional", "layer": {"type": kind, "units": 5, "return_sequences": sequences}}], (7, 3)
    )[0]
    cls = {"lstm": torch.nn.LSTM, "gru": torch.nn.GRU, "rnn": torch.nn.RNN}[kind]
    ref = cls(3, 5, batch_first=True, bidirectional=True)
    _copy_direction(wrapper.forward_layer.rnn, ref, "_l0")
    _copy_direction(wrapper.backward_layer.rnn, ref, "_l0_reverse")
    x = torch.randn(4, 7, 3)
    out, _ = ref(x)  # (N, L, 2H)
    expected = out if sequences else torch.cat([out[:, -1, :5], out[:, 0, 5:]], dim=-1)
    torch.testing.assert_close(wrapper(x), expected)


@pytest.mark.parametrize("mode, width", [("sum", 4), ("mul", 4), ("ave", 4), ("concat", 8)])
def test_bidirectional_merge_modes(mode, width):
    spec = {"type": "bidirectional", "merge_mode": mode, "layer": {"type": "gru", "units": 4}}
    model = lamina.build_model([spec], (6, 2))
    assert model(torch.randn(3, 6, 2)).shape == (3, width) and model.shapes == [(width,)]


def test_stacked_wrapper_equals_a_torch_two_layer_lstm():
    torch.manual_seed(0)
    stacked = lamina.build_model(
        [{"type": "stacked_rnn", "num_layers": 2, "layer": {"type": "lstm", "units": 5, "return_sequences": True}}],
        (7, 3),
    )[0]
    ref = torch.nn.LSTM(3, 5, num_layers=2, batch_first=True)
    _copy_direction(stacked.layers[0].rnn, ref, "_l0")
    _copy_direction(stacked.layers[1].rnn, ref, "_l1")
    x = torch.randn(4, 7, 3)
    torch.testing.assert_close(stacked(x), ref(x)[0])


def test_stacked_bidirectional_layers_return_sequences_below_the_top():
    model = lamina.build_model(
        [
            {
                "type": "stacked_rnn",
                "num_layers": 3,
                "residual": True,
                "layer": {"type": "bidirectional", "layer": {"type": "gru", "units": 4}},
            }
        ],
        (6, 8),
    )
    inner = model[0].layers
    assert [layer.forward_layer.return_sequences for layer in inner] == [True, True, False]
    assert model(torch.randn(2, 6, 8)).shape == (2, 8)


def test_time_distributed_applies_the_layer_at_each_step():
    model = lamina.build_model(
        [{"type": "time_distributed", "layer": {"type": "dense", "units": 3, "activation": "tanh"}}], (5, 4)
    )
    x = torch.randn(2, 5, 4)
    inner = model[0].layer
    torch.testing.assert_close(model(x), torch.stack([inner(x[:, t]) for t in range(5)], dim=1))


def test_wrappers_gradcheck():
    model = lamina.build_model(
        [
            {
                "type": "stacked_rnn",
                "num_layers": 2,
                "dropout": 0.0,
                "residual": True,
                "layer": {
                    "type": "bidirectional",
                    "merge_mode": "sum",
                    "layer": {"type": "gru", "units": 3, "return_sequences": True},
                },
            },
            {"type": "time_distributed", "layer": {"type": "dense", "units": 2}},
        ],
        (4, 3),
    )
    assert gradcheck_module(model, torch.randn(2, 4, 3), fast=True)


def test_wrapper_errors_name_the_layer_and_shapes():
    with pytest.raises(
        lamina.ShapeError,
        match=r"model.layers\[0\] \(bidirectional\): expects a sequence of shape "
        r"\(length, features\).*got \(5,\)",
    ):
        lamina.build_model([{"type": "bidirectional", "layer": {"type": "lstm", "units": 2}}], (5,))
    with pytest.raises(lamina.ShapeError, match=r"layers below the top must return sequences"):
        lamina.build_model(
            [
                {
                    "type": "stacked_rnn",
                    "layer": {"type": "time_distributed", "layer": {"type": "reshape", "shape": [3, 1]}},
                }
            ],
            (5, 3),
        )
    with pytest.raises(lamina.ConfigError, match=r"model.layers\[0\].layer.units: required"):
        lamina.build_model([{"type": "stacked_rnn", "layer": {"type": "lstm"}}], (5, 3))
