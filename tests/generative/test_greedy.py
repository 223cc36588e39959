"""The greedy layer-wise driver: it trains one module per hidden layer on the layer below's output and copies
exactly the trained module's weights into the network."""

from __future__ import annotations

from typing import ClassVar

import pytest
import torch
from torch import nn

import lamina
from lamina.data import ArrayDataset
from lamina.errors import ConfigError
from lamina.pretrain import GreedyLayer, LayerwisePretrainSpec, pretrain_layerwise


class TiedLinearAutoencoder(GreedyLayer):
    """A test-only greedy module: x -> sigmoid(W x + c) -> W^T h + b."""

    def __init__(self, n_visible, n_hidden):
        super().__init__()
        self.weight = nn.Parameter(torch.randn(n_hidden, n_visible) * 0.1)
        self.hidden_bias = nn.Parameter(torch.zeros(n_hidden))
        self.visible_bias = nn.Parameter(torch.zeros(n_visible))
        self.seen_inputs = []

    def transform(self, x):
        return torch.sigmoid(x @ self.weight.T + self.hidden_bias)

    def training_loss(self, batch):
        x, _ = batch
        if len(self.seen_inputs) < 1:
            self.seen_inputs.append(x.detach().clone())
        return (self.transform(x) @ self.weight + self.visible_bias - x).pow(2).mean()


class ToyMethod(LayerwisePretrainSpec):
    compatible_activations: ClassVar[tuple[str, ...]] = ("sigmoid",)
    why_incompatible: ClassVar[str] = "its hidden units are logistic."

    def build_module(self, n_visible, n_hidden, activation):
        return TiedLinearAutoencoder(n_visible, n_hidden)


STACK = [
    {"type": "dense", "units": 6, "activation": "sigmoid"},
    {"type": "dropout", "p": 0.5},
    {"type": "dense", "units": 4, "activation": "sigmoid"},
    {"type": "dense", "units": 3},
]


def test_driver_trains_each_hidden_layer_on_the_one_below_and_copies_weights():
    torch.manual_seed(0)
    x = torch.rand(64, 10)
    model = lamina.build_model(STACK, (10,))
    output_before = model.dense_3.weight.detach().clone()
    layers = pretrain_layerwise(model, ArrayDataset(x), ToyMethod(epochs=3, batch_size=64), device="cpu", seed=1)
    assert [p.layer for p in layers] == ["dense_0", "dense_2"]
    for record, target in zip(layers, (model.dense_0.linear, model.dense_2.linear)):
        assert torch.equal(target.weight, record.module.weight.detach())
        assert torch.equal(target.bias, record.module.hidden_bias.detach())
    # the second module's data is the first (pretrained) layer's activation of x; dropout is off
    expected = torch.sigmoid(x @ layers[0].module.weight.detach().T + layers[0].module.hidden_bias.detach())
    torch.testing.assert_close(
        torch.sort(layers[1].module.seen_inputs[0], dim=0).values, torch.sort(expected, dim=0).values
    )
    assert torch.equal(model.dense_3.weight, output_before)  # the output layer is left to fine-tuning
    assert len(layers[0].history) == 3


def test_incompatible_layer_says_why_and_what_fits():
    model = lamina.build_model(
        [{"type": "dense", "units": 4, "activation": "relu"}, {"type": "dense", "units": 2}], (5,)
    )
    with pytest.raises(
        ConfigError,
        match=r"cannot pretrain layer 'dense_0' with relu units: its hidden units are "
        r"logistic. It fits layers with sigmoid activation",
    ):
        pretrain_layerwise(model, torch.rand(8, 5), ToyMethod(), device="cpu")


def test_per_layer_overrides_are_validated_and_applied():
    spec = ToyMethod(epochs=2, layers=[{}, {"epochs": 5}])
    assert spec.for_layer(0).epochs == 2 and spec.for_layer(1).epochs == 5
    with pytest.raises(Exception, match=r"layers.0.epochs"):
        ToyMethod(layers=[{"epochs": 0}])


def test_resumes_after_the_last_finished_layer(tmp_path):
    x = torch.rand(32, 10)
    model = lamina.build_model(STACK, (10,))
    pretrain_layerwise(model, x, ToyMethod(epochs=1, batch_size=32), device="cpu", seed=0, folder=tmp_path)
    trained = {k: v.clone() for k, v in model.state_dict().items()}
    again = lamina.build_model(STACK, (10,))
    records = pretrain_layerwise(again, x, ToyMethod(epochs=1, batch_size=32), device="cpu", seed=0, folder=tmp_path)
    assert records == [] and all(torch.equal(v, trained[k]) for k, v in again.state_dict().items())


def test_labels_are_learned_jointly_by_the_top_module_and_only_its_input_weights_reach_the_layer():
    """``labels=``: the last layer's module is built by ``build_labelled_module`` and trains on ``[h, labels]``
    (a DBN's top RBM); the layer receives the columns of its own inputs, the label columns stay in the module."""
    torch.manual_seed(0)
    x, y = torch.rand(40, 10), torch.nn.functional.one_hot(torch.arange(40) % 3, 3).float()
    stack = [{"type": "dense", "units": n, "activation": "sigmoid"} for n in (6, 4, 3)]
    model = lamina.build_model(stack, (10,))
    layers = pretrain_layerwise(
        model,
        x,
        {"method": "rbm", "epochs": 1, "batch_size": 40, "monitor_examples": 0},
        device="cpu",
        seed=0,
        include_last=True,
        labels=y,
    )
    top = layers[-1].module
    assert [p.layer for p in layers] == ["dense_0", "dense_1", "dense_2"]
    assert top.softmax_units == 3 and tuple(top.weight.shape) == (3, 4 + 3)
    assert torch.equal(model.dense_2.linear.weight, top.weight.detach()[:, :4])
    assert all(r.module.softmax_units == 0 for r in layers[:-1])
    toy = ToyMethod(epochs=1)
    toy._name = "toy"
    with pytest.raises(ConfigError, match="toy cannot learn labels beside a layer's inputs"):
        pretrain_layerwise(lamina.build_model(stack, (10,)), x, toy, device="cpu", include_last=True, labels=y)
    with pytest.raises(
        lamina.ShapeError,
        match=r"labels must be one-hot rows, one per example: shape \(40, K\), "
        r"got \(39, 3\)",
    ):
        pretrain_layerwise(lamina.build_model(stack, (10,)), x, toy, device="cpu", include_last=True, labels=y[:39])
