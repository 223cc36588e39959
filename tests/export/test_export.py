"""Export round trips (ONNX through onnxruntime, safetensors, TorchScript, torch.export) and their error paths.

The oracle of every round trip is the PyTorch model itself: the exported file, run by another runtime or rebuilt
from its weights, must give PyTorch's outputs (ONNX within 1e-5; the others exactly) on inputs it was not traced
with.
"""

from __future__ import annotations

import numpy as np
import onnx
import pytest
import torch
from sklearn.exceptions import NotFittedError
from torch import nn
from typer.testing import CliRunner

import lamina
from lamina.cli import app
from lamina.errors import CheckpointError, ExportError
from lamina.export import export, load, load_safetensors
from lamina.sklearn import DBNClassifier, MLPClassifier

pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")

DIGITS_MLP = {
    "name": "digits_mlp",
    "data": {"name": "digits", "validation": 0.1},
    "model": {
        "layers": [
            {"type": "flatten"},
            {"type": "dense", "units": 32, "activation": "relu"},
            {"type": "dropout", "p": 0.2},
            {"type": "dense", "units": 10},
        ]
    },
    "train": {
        "loss": "cross_entropy",
        "epochs": 1,
        "batch_size": 64,
        "seed": 0,
        "optimizer": {"type": "adam", "lr": 0.01},
    },
}


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    """A trained run of an MLP on digits (one epoch)."""
    return lamina.train(lamina.parse_experiment(DIGITS_MLP), out=tmp_path_factory.mktemp("runs"), progress="none")


@pytest.fixture(scope="module")
def images(run):
    """The first 200 test images of the run's dataset."""
    return run.splits.test.x[:200]


def _torch_outputs(model: nn.Module, x: torch.Tensor) -> np.ndarray:
    with torch.no_grad():
        return model.eval()(x).numpy()


# -- round trips ------------------------------------------------------------------------------------------------


def test_mlp_run_to_onnx_matches_pytorch(run, images):
    result = export(run.dir, "onnx")
    assert result.path == run.dir / "export" / "model.onnx" and result.max_abs_diff <= 1e-5
    proto = onnx.load(str(result.path))
    onnx.checker.check_model(proto, full_check=True)
    assert proto.graph.input[0].type.tensor_type.shape.dim[0].dim_param  # a named, dynamic batch axis
    session_model = load(result.path)
    for batch in (images[:1], images[:7], images):  # any batch size
        np.testing.assert_allclose(session_model(batch), _torch_outputs(run.model, batch), atol=1e-5, rtol=0)


def test_mlp_run_to_safetensors_reloads_identically(run, images):
    result = export(run.dir, "safetensors")
    assert [p.name for p in result.files] == ["model.safetensors", "model.toml"]
    rebuilt = load_safetensors(result.path)
    assert torch.equal(rebuilt(images), run.model(images))
    # the resolved configuration beside the weights is a complete experiment file
    assert lamina.load_experiment(result.files[1]).model == run.experiment.model


@pytest.mark.parametrize("fmt", ["torchscript", "exported-program"])
def test_torch_program_formats_reload_identically(run, images, fmt):
    result = export(run.dir, fmt)
    assert result.max_abs_diff == 0.0
    # TorchScript is code: loaded only when the caller vouches for the file (issue 22)
    assert torch.equal(load(result.path, trust_source=fmt == "torchscript")(images), run.model(images))


def test_cnn_estimator_to_onnx_and_safetensors(tmp_path):
    from sklearn.datasets import load_digits

    X, y = load_digits(return_X_y=True)
    X, y = (X[:600] / 16.0).astype(np.float32), y[:600]
    clf = MLPClassifier(
        layers=[
            {"type": "conv2d", "filters": 6, "kernel_size": 3, "activation": "relu"},
            {"type": "max_pool2d", "kernel_size": 2},
        ],
        input_shape=(1, 8, 8),
        max_iter=2,
        learning_rate_init=0.01,
        random_state=0,
    ).fit(X, y)
    logits = _torch_outputs(clf.module_, torch.from_numpy(X))
    onnx_result = export(clf, "onnx", tmp_path / "cnn.onnx")
    got = load(onnx_result.path)(X)
    np.testing.assert_allclose(got, logits, atol=1e-5, rtol=0)
    np.testing.assert_array_equal(clf.classes_[got.argmax(1)], clf.predict(X))
    weights = export(clf, "safetensors", tmp_path / "cnn.safetensors")
    assert "rows of 64 features" in weights.files[1].read_text()
    assert np.array_equal(_torch_outputs(load(weights.path), torch.from_numpy(X)), logits)


def test_sigmoid_mlp_to_onnx(tmp_path):
    """A DBN fine-tuned as a classifier is a sigmoid MLP: stacked sigmoid layers and a softmax output."""
    torch.manual_seed(0)
    model = lamina.build_model(
        [
            {"type": "dense", "units": 50, "activation": "sigmoid"},
            {"type": "dense", "units": 30, "activation": "sigmoid"},
            {"type": "dense", "units": 10},
            {"type": "softmax"},
        ],
        input_shape=(20,),
    )
    result = export(model, "onnx", tmp_path / "dbn.onnx")
    x = torch.rand(33, 20)
    np.testing.assert_allclose(load(result.path)(x), _torch_outputs(model, x), atol=1e-5, rtol=0)


@pytest.fixture
def one_thread():
    """Tiny fits on a shared 2-core machine: two intra-op threads only wait on each other (see tests/sklearn)."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


def test_dbn_classifier_to_onnx(tmp_path, one_thread):
    """A fitted DBNClassifier (RBM-pretrained logistic layers, fine-tuned) runs in onnxruntime as in PyTorch."""
    from sklearn.datasets import load_digits

    X, y = load_digits(return_X_y=True)
    X, y = (X[:600] / 16.0).astype(np.float32), y[:600]
    dbn = DBNClassifier((32, 16), pretrain_epochs=2, max_iter=3, random_state=0).fit(X, y)
    assert len(dbn.pretrained_layers_) == 2
    logits = _torch_outputs(dbn.module_, torch.from_numpy(X))
    result = export(dbn, "onnx", tmp_path / "dbn_classifier.onnx")
    assert result.max_abs_diff <= 1e-5
    got = load(result.path)(X)
    np.testing.assert_allclose(got, logits, atol=1e-5, rtol=0)
    np.testing.assert_array_equal(dbn.classes_[got.argmax(1)], dbn.predict(X))


def test_dag_with_two_inputs_and_two_outputs_to_onnx(tmp_path):
    torch.manual_seed(0)
    model = lamina.build_model(
        {
            "inputs": ["image", "meta"],
            "outputs": ["digit", "parity"],
            "nodes": [
                {"name": "flat", "type": "flatten", "inputs": ["image"]},
                {"name": "joined", "type": "concat", "inputs": ["flat", "meta"]},
                {"name": "hidden", "type": "dense", "units": 16, "activation": "relu"},
                {"name": "digit", "type": "dense", "units": 10, "inputs": ["hidden"]},
                {"name": "parity", "type": "dense", "units": 2, "inputs": ["hidden"]},
            ],
        },
        {"image": (1, 8, 8), "meta": (3,)},
    )
    onnx_model = load(export(model, "onnx", tmp_path / "dag.onnx").path)
    assert onnx_model.input_names == ["image", "meta"] and onnx_model.output_names == ["digit", "parity"]
    image, meta = torch.randn(5, 1, 8, 8), torch.randn(5, 3)
    with torch.no_grad():
        for got, want in zip(onnx_model(image, meta), model.eval()(image, meta)):
            np.testing.assert_allclose(got, want.numpy(), atol=1e-5, rtol=0)


# -- what cannot be exported --------------------------------------------------------------------------------------


class InverseErf(nn.Module):
    """x -> erfinv(tanh x): torch has it; ONNX has no inverse error function."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.special.erfinv(torch.tanh(x))


def test_unsupported_onnx_op_names_the_layer_and_the_formats_that_support_it(tmp_path):
    model = lamina.build_model(
        [{"type": "dense", "units": 8, "activation": "relu"}, {"type": "dense", "units": 4}], input_shape=(6,)
    )
    model.dense_0.activation = InverseErf()  # replaces the ReLU of the first layer
    with pytest.raises(ExportError) as info:
        export(model, "onnx", tmp_path / "bad.onnx")
    message = str(info.value)
    assert (
        "cannot export Stack to onnx: module 'dense_0.activation' (InverseErf) cannot be exported to onnx (" in message
    )
    assert "erf_inv" in message  # the operator itself, from the exporter
    assert message.endswith("formats that can hold it: torchscript, exported-program")
    assert not (tmp_path / "bad.onnx").exists()


def test_estimator_safetensors_needs_a_lamina_config(tmp_path):
    with pytest.raises(
        ExportError, match="has none; formats that carry the graph: onnx, torchscript, exported-program"
    ):
        export(nn.Linear(3, 2), "safetensors", tmp_path / "w.safetensors", input_shape=(3,))


# -- bad input ----------------------------------------------------------------------------------------------------


def test_layers_are_named_by_their_place_in_the_config(run):
    from lamina.export import resolve_source

    source = resolve_source(run.dir)
    assert (
        source.describe("dense_1.linear", run.model.dense_1.linear)
        == "model.layers[1] 'dense_1' (Linear, in 'dense_1.linear')"
    )
    assert source.describe("dropout_2", run.model.dropout_2) == "model.layers[2] 'dropout_2' (Dropout)"


def test_run_without_checkpoint(run, tmp_path):
    import shutil

    broken = tmp_path / "broken"
    shutil.copytree(run.dir, broken, ignore=shutil.ignore_patterns("checkpoints", "export"))
    with pytest.raises(CheckpointError, match=r"checkpoints/last\.pt: missing; the run has no checkpoint"):
        export(broken, "onnx")
    result = CliRunner().invoke(app, ["export", str(broken)])
    assert result.exit_code == 2 and "missing; the run has no checkpoint" in result.output


def test_other_bad_input(run, tmp_path):
    with pytest.raises(CheckpointError, match="no such run folder"):
        export(tmp_path / "nowhere", "onnx")
    with pytest.raises(ValueError, match=r"unknown export format 'onx'; did you mean 'onnx'\?"):
        export(run.dir, "onx")
    with pytest.raises(ExportError, match=r"give input_shape=\(...\)"):
        export(nn.Linear(3, 2), "onnx", tmp_path / "x.onnx")
    with pytest.raises(ExportError, match=r"give the file to write \(out=...\)"):
        export(nn.Linear(3, 2), "onnx", input_shape=(3,))
    with pytest.raises(NotFittedError, match="MLPClassifier instance is not fitted yet"):
        export(MLPClassifier(), "onnx", tmp_path / "x.onnx")
    from safetensors.torch import save_file

    save_file({"w": torch.zeros(2)}, tmp_path / "plain.safetensors")
    with pytest.raises(ExportError, match="not written by lamina"):
        load(tmp_path / "plain.safetensors")
    with pytest.raises(ValueError, match="cannot tell the format"):
        load(tmp_path / "weights.bin")


def test_cli_export(run):
    runner = CliRunner()
    result = runner.invoke(app, ["export", str(run.dir), "--format", "torchscript"])
    assert result.exit_code == 0, result.output
    assert "model.torchscript.pt" in result.output and "max |exported - pytorch| = 0" in result.output
    result = runner.invoke(app, ["export", str(run.dir), "--format", "onx"])
    assert result.exit_code == 2 and "did you mean 'onnx'" in result.output
    result = runner.invoke(app, ["export", str(run.dir), "--format", "safetensors", "--opset", "17"])
    assert result.exit_code == 2 and "--opset applies to onnx" in result.output
