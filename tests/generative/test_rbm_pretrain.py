"""``[pretrain] method = "rbm"`` / ``"gaussian_rbm"``: experiment files, figures in the report, refusals that
explain."""

from __future__ import annotations

import pytest
import torch

import lamina
from lamina.errors import ConfigError, DataError
from lamina.generative import BernoulliRBM, GaussianBernoulliRBM
from lamina.pretrain import pretrain_layerwise
from lamina.registry import resolve

EXPERIMENT = """
name = "digits_rbm"
[data]
name = "digits"
scale = "binarize"
flatten = true
[model]
layers = [
  { type = "dense", units = 48, activation = "sigmoid" },
  { type = "dense", units = 32, activation = "sigmoid" },
  { type = "dense", units = 10 },
]
[pretrain]
method = "rbm"
epochs = 3
batch_size = 32
momentum_switch_epoch = 1
monitor_examples = 300
[train]
epochs = 6
batch_size = 32
optimizer = { type = "sgd", lr = 0.1, momentum = 0.9 }
"""


def test_experiment_with_rbm_pretraining_reports_figures_and_monitoring(tmp_path):
    path = tmp_path / "exp.toml"
    path.write_text(EXPERIMENT)
    run = lamina.train(path, out=tmp_path / "runs", progress="none")
    layers = run.summary["pretrain"]["layers"]
    assert [layer["n_hidden"] for layer in layers] == [48, 32]
    assert all(layer["recon_error"] > 0 and layer["pseudo_log_likelihood"] < 0 for layer in layers)
    plots = run.dir / "plots"
    for name in ("rbm_filters.png", "rbm_reconstructions.png", "rbm_samples.png"):
        assert (plots / name).is_file()
        assert name in (run.dir / "report.html").read_text()
    assert run.summary["test"]["accuracy"] > 0.85
    assert run.summary["pretrain"]["seconds"] > 0
    report = (run.dir / "report.html").read_text()
    assert "<th>n_hidden</th>" in report and "<th>pseudo_log_likelihood</th>" in report  # a table, not a JSON dump


def test_spec_round_trips_and_misspellings_are_named():
    spec = resolve("pretrain", {"method": "rbm", "k": 3, "persistent_chains": 100, "sparsity_target": 0.05})
    assert resolve("pretrain", spec.to_config()) == spec
    with pytest.raises(ConfigError, match=r"pretrain.kk: unknown key 'kk'; did you mean 'k'\?"):
        resolve("pretrain", {"method": "rbm", "kk": 3}, path="pretrain")
    with pytest.raises(ConfigError, match=r"pretrain.reconstruction: expected one of 'probabilities', 'samples'"):
        resolve("pretrain", {"method": "rbm", "reconstruction": "mean"}, path="pretrain")


def test_relu_layers_are_refused_with_the_reason():
    model = lamina.build_model(
        [{"type": "dense", "units": 8, "activation": "relu"}, {"type": "dense", "units": 2}], (6,)
    )
    with pytest.raises(
        ConfigError,
        match=r"rbm cannot pretrain layer 'dense_0' with relu units: an RBM's hidden units "
        r"are binary.*It fits layers with sigmoid activation",
    ):
        pretrain_layerwise(model, torch.rand(10, 6), "rbm", device="cpu")


def test_real_valued_data_is_refused_before_training_with_advice():
    model = lamina.build_model(
        [{"type": "dense", "units": 8, "activation": "sigmoid"}, {"type": "dense", "units": 2}], (6,)
    )
    x = torch.randn(20, 6)
    with pytest.raises(DataError, match=r"BernoulliRBM: visible data must be binary.*method = \"gaussian_rbm\""):
        pretrain_layerwise(model, x, {"method": "rbm", "epochs": 1}, device="cpu")


def test_gaussian_rbm_method_puts_a_gaussian_rbm_under_the_first_layer_with_a_smaller_rate():
    spec = resolve("pretrain", {"method": "gaussian_rbm", "epochs": 1, "learn_std": True, "monitor_examples": 0})
    assert spec.for_layer(0).optimizer.lr == pytest.approx(0.001) and spec.for_layer(1).optimizer.lr == 0.1
    model = lamina.build_model(
        [
            {"type": "dense", "units": 8, "activation": "sigmoid"},
            {"type": "dense", "units": 5, "activation": "sigmoid"},
            {"type": "dense", "units": 2},
        ],
        (6,),
    )
    x = torch.randn(64, 6) * 2 + 1
    records = pretrain_layerwise(model, x, spec, device="cpu")
    first, second = (r.module for r in records)
    assert isinstance(first, GaussianBernoulliRBM) and type(second) is BernoulliRBM
    torch.testing.assert_close(first.visible_bias.detach(), x.mean(0), atol=0.05, rtol=0)  # started at the data mean
    assert torch.equal(model.dense_0.linear.weight, first.weight.detach())


def test_propagating_samples_gives_the_next_rbm_binary_data():
    spec = resolve("pretrain", {"method": "rbm", "propagate": "samples"})
    probabilities = torch.full((2000, 3), 0.3)
    samples = spec.next_inputs(probabilities, 0, torch.Generator().manual_seed(0))
    assert set(samples.unique().tolist()) == {0.0, 1.0}
    assert samples.mean().item() == pytest.approx(0.3, abs=0.02)
    assert torch.equal(resolve("pretrain", "rbm").next_inputs(probabilities, 0, None), probabilities)


def test_the_options_are_the_rbm_constructors_and_old_names_say_what_replaced_them():
    spec = resolve("pretrain", {"method": "rbm", "k": 3, "persistent_chains": 16, "weight_decay": 0.001})
    rbm = spec.build_module(6, 4, "sigmoid")
    assert (rbm.k, len(rbm.persistent_chain), rbm.weight_decay) == (3, 16, 0.001)
    assert resolve("pretrain", "rbm").weight_decay == BernoulliRBM(2, 2).weight_decay == 0.0  # one default
    with pytest.raises(ConfigError) as err:
        resolve("pretrain", {"method": "rbm", "cd_k": 3, "persistent": True}, path="pretrain")
    assert "pretrain.cd_k: 'cd_k' is now 'k'" in str(err.value)
    assert "pretrain.persistent: 'persistent' is now 'persistent_chains'" in str(err.value)


@pytest.mark.parametrize("method, lr", [("rbm", 0.1), ("gaussian_rbm", 0.1), ("linear_rbm", 0.001)])
def test_the_papers_settings_are_a_preset_that_explicit_keys_override(method, lr):
    spec = resolve("pretrain", {"method": method, "preset": "hinton_salakhutdinov_2006"})
    assert (spec.weight_decay, spec.batch_size, spec.optimizer.lr, spec.final_momentum) == (0.0002, 100, lr, 0.9)
    assert resolve("pretrain", spec.to_config()) == spec
    mine = resolve("pretrain", {"method": method, "preset": "hinton_salakhutdinov_2006", "weight_decay": 0.01})
    assert (mine.weight_decay, mine.batch_size) == (0.01, 100)
    with pytest.raises(ConfigError, match=r"pretrain.preset: expected one of 'hinton_salakhutdinov_2006'"):
        resolve("pretrain", {"method": method, "preset": "hinton"}, path="pretrain")
