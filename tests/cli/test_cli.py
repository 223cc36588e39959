"""Every command through typer's runner, including the error paths (exit code and message)."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest
import tomllib
import torch
from PIL import Image
from typer.testing import CliRunner

from lamina.cli import app
from lamina.train.runs import Run
from tests.conftest import ROOT, needs_mnist

runner = CliRunner()


def invoke(*args: str):
    return runner.invoke(app, list(args))


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory):
    out = tmp_path_factory.mktemp("runs")
    result = invoke(
        "train", str(ROOT / "examples" / "digits_mlp.toml"), "--out", str(out), "--quiet", "--set", "train.epochs=3"
    )
    assert result.exit_code == 0, result.output
    assert "test accuracy:" in result.output and "run folder:" in result.output
    (path,) = out.iterdir()
    return path


def test_help_lists_the_commands():
    result = invoke("--help")
    assert result.exit_code == 0
    for command in ("train", "evaluate", "predict", "config", "data", "runs", "report"):
        assert command in result.output


def test_python_dash_m_lamina():
    result = subprocess.run([sys.executable, "-m", "lamina", "--help"], capture_output=True, text=True)
    assert result.returncode == 0 and "train" in result.stdout


def test_train_writes_a_complete_run_folder(run_dir):
    for name in (
        "config.toml",
        "metrics.jsonl",
        "summary.json",
        "report.html",
        "checkpoints/last.pt",
        "checkpoints/best.pt",
        "plots/loss.png",
        "plots/accuracy.png",
    ):
        assert (run_dir / name).is_file(), name
    summary = Run.open(run_dir).summary
    assert summary["status"] == "completed" and summary["epochs"] == 3 and 0.8 < summary["test"]["accuracy"] <= 1


@pytest.mark.parametrize(
    "args, message",
    [
        (("train", "nope.toml"), "nope.toml: no such file"),
        (("train",), "give an experiment file"),
        (("train", "x.toml", "--resume", "y"), "not both"),
        (("evaluate", "no/such/run"), "no such run folder"),
        (("config", "check", "missing.toml"), "no such file"),
    ],
)
def test_bad_input_exits_2_with_a_message(args, message):
    result = invoke(*args)
    assert result.exit_code == 2
    assert message in result.output


def test_config_that_is_not_toml(tmp_path):
    bad = tmp_path / "bad.toml"
    bad.write_text("this is = = not toml\n")
    result = invoke("train", str(bad))
    assert result.exit_code == 2 and "not valid TOML" in result.output and "line 1" in result.output


def test_bad_override_path_suggests_the_key():
    result = invoke("train", str(ROOT / "examples" / "digits_mlp.toml"), "--set", "train.epocs=2")
    assert result.exit_code == 2 and "train.epocs: unknown key 'epocs'; did you mean 'epochs'?" in result.output


def test_config_check_and_show(tmp_path):
    ok = invoke("config", "check", str(ROOT / "examples" / "digits_mlp.toml"))
    assert ok.exit_code == 0 and "OK" in ok.output
    bad = invoke("config", "check", str(ROOT / "examples" / "digits_mlp.toml"), "--set", "model.layers[2].p=1.5")
    assert bad.exit_code == 2 and "model.layers[2].p: expected a number in [0, 1), got 1.5" in bad.output
    shown = invoke("config", "show", str(ROOT / "examples" / "digits_mlp.toml"))
    resolved = tomllib.loads(shown.output)
    assert resolved["train"]["optimizer"]["dampening"] == 0.0  # defaults are filled in
    assert resolved["model"]["layers"][1]["units"] == 128


def test_evaluate_each_split(run_dir):
    result = invoke("evaluate", str(run_dir), "--split", "test")
    assert result.exit_code == 0 and "test accuracy:" in result.output
    expected = Run.open(run_dir).summary["test"]["accuracy"]
    assert f"{expected:.6g}" in result.output
    assert invoke("evaluate", str(run_dir), "--split", "validation").exit_code == 0
    wrong = invoke("evaluate", str(run_dir), "--split", "dev")
    assert wrong.exit_code == 2 and "unknown split 'dev'" in wrong.output


def test_predict_npy_matches_the_model(run_dir, tmp_path):
    run = Run.open(run_dir)
    x = run.splits.test.x[:7]
    np.save(tmp_path / "batch.npy", x.numpy())
    out = tmp_path / "pred.csv"
    result = invoke("predict", str(run_dir), str(tmp_path / "batch.npy"), "--out", str(out))
    assert result.exit_code == 0, result.output
    predicted = np.loadtxt(out, delimiter=",", skiprows=1)[:, 0].astype(int)
    with torch.no_grad():
        expected = run.model(x).argmax(1).numpy()
    assert predicted.tolist() == expected.tolist()


def test_predict_png_matches_the_model(run_dir, tmp_path):
    run = Run.open(run_dir)
    image = run.splits.test.x[3, 0]  # (8, 8) in [0, 1]
    Image.fromarray((image.numpy() * 255).round().astype(np.uint8), mode="L").save(tmp_path / "digit.png")
    result = invoke("predict", str(run_dir), str(tmp_path / "digit.png"), "--out", str(tmp_path / "p.npy"))
    assert result.exit_code == 0, result.output
    pixels = torch.from_numpy(np.asarray(Image.open(tmp_path / "digit.png"), dtype=np.float32) / 255).reshape(
        1, 1, 8, 8
    )
    with torch.no_grad():
        expected = int(run.model(pixels).argmax(1))
    assert int(np.load(tmp_path / "p.npy")[0, 0]) == expected


def test_predict_refuses_an_image_of_another_size_unless_resize(run_dir, tmp_path):
    Image.fromarray(np.full((16, 16), 200, dtype=np.uint8), mode="L").save(tmp_path / "big.png")
    refused = invoke("predict", str(run_dir), str(tmp_path / "big.png"))
    assert refused.exit_code == 2 and "16x16" in refused.output and "8x8" in refused.output
    assert "--resize" in refused.output
    resized = invoke("predict", str(run_dir), str(tmp_path / "big.png"), "--resize")
    assert resized.exit_code == 0, resized.output


def test_predict_wrong_shape_names_the_expected_shape(run_dir, tmp_path):
    np.save(tmp_path / "wrong.npy", np.zeros((3, 10), dtype=np.float32))
    result = invoke("predict", str(run_dir), str(tmp_path / "wrong.npy"))
    assert result.exit_code == 2 and "(3, 10)" in result.output and "(1, 8, 8)" in result.output


def test_predict_csv_with_a_non_numeric_column(run_dir, tmp_path):
    (tmp_path / "x.csv").write_text("a,b\n1,zz\n")
    result = invoke("predict", str(run_dir), str(tmp_path / "x.csv"))
    assert result.exit_code == 2 and "column 'b' holds a non-number 'zz'" in result.output


def test_corrupted_and_missing_checkpoints(run_dir, tmp_path):
    import shutil

    broken = tmp_path / "broken"
    shutil.copytree(run_dir, broken)
    weights = Run.open(broken).summary.get("weights", "last.pt")
    (broken / "checkpoints" / weights).write_bytes(b"not a checkpoint")
    np.save(tmp_path / "x.npy", np.zeros((1, 1, 8, 8), dtype=np.float32))
    result = invoke("predict", str(broken), str(tmp_path / "x.npy"))
    assert result.exit_code == 2 and f"checkpoints/{weights}" in result.output and "corrupted" in result.output
    shutil.rmtree(broken / "checkpoints")
    result = invoke("evaluate", str(broken))
    assert result.exit_code == 2 and "missing" in result.output and "--resume" in result.output


def test_runs_list_and_report(run_dir):
    listed = invoke("runs", "list", str(run_dir.parent))
    assert listed.exit_code == 0 and "completed" in listed.output
    (run_dir / "report.html").unlink()
    assert invoke("report", str(run_dir)).exit_code == 0 and (run_dir / "report.html").is_file()
    assert invoke("runs", "list", str(run_dir / "nothing")).output.startswith("no runs")


@needs_mnist
def test_data_commands():
    listed = invoke("data", "list")
    assert listed.exit_code == 0 and "mnist" in listed.output and "4/4" in listed.output
    verified = invoke("data", "verify", "mnist")
    assert verified.exit_code == 0 and "all files present and verified" in verified.output
    path = invoke("data", "path", "mnist")
    assert "train-images-idx3-ubyte.gz" in path.output
    unknown = invoke("data", "verify", "mnsit")
    assert unknown.exit_code == 2 and "did you mean 'mnist'" in unknown.output


def test_names_lists_registered_components():
    result = invoke("names", "optimizer")
    assert result.exit_code == 0 and "sgd" in result.output and "lbfgs" in result.output
    assert invoke("names", "nonsense").exit_code == 2


def test_summary_is_the_first_sentence_of_the_first_paragraph():
    from lamina.cli.text import summary

    doc = """Pairs of images with two targets: the class, and whether it exceeds
    the second (built from ``digits`` or :class:`~lamina.data.Mnist`). More here.

    Args:
        source: ignored.
    """
    assert summary(doc) == (
        "Pairs of images with two targets: the class, and whether it exceeds the second (built from digits or Mnist)."
    )
    assert (
        summary("He et al. (2015), e.g. for ReLU: N(0, 2 / fan_in). Second.")
        == "He et al. (2015), e.g. for ReLU: N(0, 2 / fan_in)."
    )
    assert summary(None) == "" and summary("No full stop") == "No full stop"


def test_data_list_shows_one_sentence_per_dataset():
    listed = " ".join(invoke("data", "list").output.split())
    assert "Args:" not in listed and "``" not in listed
    assert "exceeds the second (a two-input, two-head task built from digits or mnist)." in listed.replace("│ ", "")


def test_names_prints_docstrings_as_plain_text():
    pretrain = invoke("names", "pretrain").output
    assert "Pretrain each layer as a DenoisingAutoencoder (Vincent et al., 2008)" in pretrain
    assert ":class:" not in pretrain and "``" not in pretrain
    assert "Clip x to [min_val, max_val]." in invoke("names", "layer").output  # brackets are not rich markup
