"""Autoencoders as ``[pretrain]`` methods: registered, validated, round-tripped, trained by the greedy driver whose
copies are exactly the trained modules' weights, and usable from an experiment file."""

from __future__ import annotations

import json

import pytest
import torch

import lamina
from lamina.data import ArrayDataset
from lamina.errors import ConfigError
from lamina.generative import ContractiveAutoencoder, DenoisingAutoencoder, SparseAutoencoder
from lamina.pretrain import pretrain_layerwise
from lamina.registry import resolve

METHODS = {
    "autoencoder": {},
    "denoising_autoencoder": {"corruption": "gaussian", "level": 0.3},
    "sparse_autoencoder": {"sparsity": "l1", "weight": 0.01},
    "contractive_autoencoder": {"contraction": 0.2},
}
STACK = [
    {"type": "dense", "units": 12, "activation": "sigmoid"},
    {"type": "dropout", "p": 0.2},
    {"type": "dense", "units": 6, "activation": "relu"},
    {"type": "dense", "units": 3},
]


@pytest.mark.parametrize("name", sorted(METHODS))
def test_methods_round_trip_through_their_config(name):
    spec = resolve("pretrain", {"method": name, "epochs": 3, **METHODS[name]})
    table = spec.to_config()
    assert table["method"] == name and table["epochs"] == 3
    assert resolve("pretrain", table).to_config() == table


@pytest.mark.parametrize("name", sorted(METHODS))
def test_driver_copies_exactly_the_trained_modules_weights(name):
    torch.manual_seed(0)
    x = torch.rand(96, 10)
    model = lamina.build_model(STACK, (10,))
    records = pretrain_layerwise(
        model, ArrayDataset(x), {"method": name, "epochs": 2, "batch_size": 32, **METHODS[name]}, device="cpu", seed=3
    )
    assert [r.layer for r in records] == ["dense_0", "dense_2"]
    for record, target in zip(records, (model.dense_0.linear, model.dense_2.linear)):
        assert torch.equal(target.weight, record.module.weight.detach())
        assert torch.equal(target.bias, record.module.hidden_bias.detach())
        assert len(record.history) == 2
    # each layer's code nonlinearity is the layer's; loss "auto" read the inputs: pixels in [0, 1], then the
    # logistic layer's outputs in (0, 1): cross-entropy both times
    assert [r.module.activation for r in records] == ["sigmoid", "relu"]
    assert [r.module.loss for r in records] == ["cross_entropy", "cross_entropy"]
    expected_type = {
        "denoising_autoencoder": DenoisingAutoencoder,
        "sparse_autoencoder": SparseAutoencoder,
        "contractive_autoencoder": ContractiveAutoencoder,
    }.get(name)
    if expected_type is not None:
        assert all(type(r.module) is expected_type for r in records)


def test_auto_loss_is_squared_error_above_relu_units_and_per_layer_options_apply():
    stack = [
        {"type": "dense", "units": 8, "activation": "relu"},
        {"type": "dense", "units": 4, "activation": "relu"},
        {"type": "dense", "units": 2},
    ]
    model = lamina.build_model(stack, (6,))
    spec = {"method": "denoising_autoencoder", "epochs": 1, "level": 0.5, "layers": [{}, {"level": 0.1, "epochs": 3}]}
    records = pretrain_layerwise(model, torch.rand(40, 6) * 3, spec, device="cpu")
    assert [r.module.loss for r in records] == ["mse", "mse"]  # inputs in [0, 3], then ReLU outputs
    assert [r.module.level for r in records] == [0.5, 0.1] and [len(r.history) for r in records] == [1, 3]


def test_a_method_per_layer_and_the_code_layer_with_include_last():
    model = lamina.build_model(
        [{"type": "dense", "units": 5, "activation": "sigmoid"}, {"type": "dense", "units": 2}], (7,)
    )
    records = pretrain_layerwise(
        model,
        torch.rand(30, 7),
        ["contractive_autoencoder", {"method": "autoencoder", "loss": "mse"}],
        device="cpu",
        include_last=True,
    )
    assert [type(r.module).__name__ for r in records] == ["ContractiveAutoencoder", "Autoencoder"]
    assert records[1].module.activation == "identity"  # the linear code layer
    assert torch.equal(model.dense_1.weight, records[1].module.weight.detach())
    with pytest.raises(ConfigError, match="3 methods given for 2 layers to pretrain"):
        pretrain_layerwise(model, torch.rand(30, 7), ["autoencoder"] * 3, device="cpu", include_last=True)


def test_methods_that_do_not_fit_the_layer_say_why_and_what_fits():
    relu = lamina.build_model(
        [{"type": "dense", "units": 4, "activation": "relu"}, {"type": "dense", "units": 2}], (5,)
    )
    with pytest.raises(
        ConfigError,
        match=r"sparse_autoencoder with sparsity = \"kl\" cannot pretrain layer 'dense_0' "
        r"with relu units: the KL penalty reads each unit's mean activation as a "
        r"firing probability .* for other layers use sparsity = \"l1\"",
    ):
        pretrain_layerwise(relu, torch.rand(8, 5), "sparse_autoencoder", device="cpu")
    gelu = lamina.build_model(
        [{"type": "dense", "units": 4, "activation": "gelu"}, {"type": "dense", "units": 2}], (5,)
    )
    with pytest.raises(
        ConfigError,
        match=r"autoencoder cannot pretrain layer 'dense_0' with gelu units: .* It fits "
        r"layers with sigmoid or tanh or relu or identity activation",
    ):
        pretrain_layerwise(gelu, torch.rand(8, 5), "autoencoder", device="cpu")
    with pytest.raises(
        ConfigError,
        match=r"pretrain.level: expected a fraction of inputs in \[0, 1\] for masking "
        r"corruption, got 1.5",
    ):
        resolve("pretrain", {"method": "denoising_autoencoder", "level": 1.5}, path="pretrain")
    with pytest.raises(ConfigError, match=r"pretrain.corruption: expected one of .*got 'salt'"):
        resolve("pretrain", {"method": "denoising_autoencoder", "corruption": "salt"}, path="pretrain")


def test_cross_entropy_on_data_outside_the_unit_interval_is_refused_before_training():
    model = lamina.build_model(
        [{"type": "dense", "units": 4, "activation": "sigmoid"}, {"type": "dense", "units": 2}], (5,)
    )
    with pytest.raises(lamina.DataError, match=r"needs inputs in \[0, 1\].*got values in \[-"):
        pretrain_layerwise(model, torch.randn(20, 5), {"method": "autoencoder", "loss": "cross_entropy"}, device="cpu")


def test_experiment_file_pretrains_with_a_denoising_autoencoder_and_reports_it(tmp_path):
    config = tmp_path / "dae.toml"
    config.write_text("""
name = "digits_dae"
[data]
name = "digits"
validation = 0.1
[model]
layers = [
  { type = "flatten" },
  { type = "dense", units = 32, activation = "sigmoid" },
  { type = "dense", units = 16, activation = "sigmoid" },
  { type = "dense", units = 10 },
]
[pretrain]
method = "denoising_autoencoder"
epochs = 2
corruption = "salt_and_pepper"
level = 0.2
layers = [{}, { epochs = 1 }]
[train]
loss = "cross_entropy"
epochs = 2
batch_size = 64
seed = 0
optimizer = { type = "adam", lr = 0.003 }
""")
    run = lamina.train(config, out=tmp_path / "runs", progress="none")
    summary = json.loads((run.dir / "summary.json").read_text())
    layers = summary["pretrain"]["layers"]
    assert summary["pretrain"]["method"] == "denoising_autoencoder"
    assert [(p["layer"], p["n_visible"], p["n_hidden"], p["epochs"]) for p in layers] == [
        ("dense_1", 64, 32, 2),
        ("dense_2", 32, 16, 1),
    ]
    plots = {p.name for p in (run.dir / "plots").glob("*.png")}
    assert {"pretrain_loss.png", "pretrain_reconstructions.png", "pretrain_filters.png"} <= plots
    assert "pretrain reconstructions" in (run.dir / "report.html").read_text()
