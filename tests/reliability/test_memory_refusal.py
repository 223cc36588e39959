"""A model too big for memory is refused by ``config check`` and by ``train`` before any allocation, naming the layer
and the size; the estimate counts exactly the parameters the real model gets."""

from __future__ import annotations

import pytest
from typer.testing import CliRunner

import lamina
from lamina.cli import app
from lamina.nn import memory_estimate
from lamina.nn.builder import build_model
from lamina.nn.memory_estimate import InsufficientMemoryError, check_model_memory, estimate_memory
from tests.conftest import ROOT

pytestmark = pytest.mark.reliability

HUGE = """
name = "huge"
[data]
name = "digits"
[model]
layers = [{ type = "flatten" }, { type = "dense", units = 1000000 }, { type = "dense", units = 1000000 },
          { type = "dense", units = 10 }]
"""


@pytest.mark.parametrize("example", ["digits_mlp.toml", "digit_pairs_multitask.toml"])
def test_estimate_counts_the_real_parameters_and_activations(example):
    exp = lamina.load_experiment(ROOT / "examples" / example)
    shape = exp.data.load().train.input_shape
    estimate = estimate_memory(exp.model, shape, batch_size=32)
    model = build_model(exp.model, shape)
    assert estimate.parameters == sum(p.numel() for p in model.parameters())  # the real model as oracle
    if example == "digits_mlp.toml":  # flatten 64, dense 128, dropout 128, dense 10: outputs by hand
        assert [layer.activation_bytes for layer in estimate.layers] == [32 * n * 4 for n in (64, 128, 128, 10)]


def test_config_check_refuses_a_dense_layer_of_10_to_the_12_weights(tmp_path):
    path = tmp_path / "huge.toml"
    path.write_text(HUGE)
    result = CliRunner().invoke(app, ["config", "check", str(path)])
    assert result.exit_code == 2, result.output
    text = " ".join(result.output.split())
    assert "model.layers[2] (dense): 1,000,001,000,000 parameters (3.6 TiB)" in text and "free" in text
    ok = CliRunner().invoke(app, ["config", "check", str(ROOT / "examples" / "digits_mlp.toml")])
    assert ok.exit_code == 0 and "9,610 parameters" in ok.output


def test_train_refuses_before_allocating(tmp_path, monkeypatch):
    from lamina.train import experiment

    built = []
    monkeypatch.setattr(experiment, "build_model", lambda *args, **kwargs: built.append(args))
    monkeypatch.setattr(memory_estimate, "available_memory", lambda device: 10_000_000)  # 10 MB free
    exp = lamina.load_experiment(ROOT / "examples" / "digits_mlp.toml", ["model.layers[1].units=20000"])
    with pytest.raises(InsufficientMemoryError, match=r"model.layers\[1\] \(dense \(relu\)\): 1,300,000 parameters"):
        lamina.train(exp, out=tmp_path, progress="none")
    assert built == []  # refused before the real model was built


def test_a_model_that_fits_is_passed_with_its_estimate():
    estimate = check_model_memory([{"type": "dense", "units": 10}], (5,), batch_size=4, available=10**9)
    assert estimate.parameters == 60 and estimate.total == 2 * 60 * 4 + 4 * 10 * 4
    with pytest.raises(InsufficientMemoryError, match=r"model.layers\[0\] \(dense\): 60 parameters"):
        check_model_memory([{"type": "dense", "units": 10}], (5,), batch_size=4, available=100)
