"""``lamina diagnose RUN`` and ``diagnose()``: tables, figures in the run's plots and report, callbacks in a run,
skipped diagnostics with their reasons, and bad input."""

from __future__ import annotations

import json

import pytest
import torch
from torch import nn
from typer.testing import CliRunner

import lamina
from lamina.cli import app
from lamina.diagnostics import diagnose

EXPERIMENT = """
name = "tiny"
[data]
name = "digits"
validation = 0.2
[model]
layers = [
  { type = "flatten" },
  { type = "dense", units = 16, activation = "relu" },
  { type = "dense", units = 8, activation = "sigmoid" },
  { type = "dense", units = 10 },
]
[train]
epochs = 1
batch_size = 64
optimizer = { type = "sgd", lr = 0.1 }
callbacks = [{ type = "gradient_flow", every = 5 }, { type = "unit_statistics", every = 5 }]
"""


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    folder = tmp_path_factory.mktemp("runs")
    (folder / "tiny.toml").write_text(EXPERIMENT)
    return lamina.train(folder / "tiny.toml", out=folder, progress="none")


def test_callbacks_write_their_records_and_figures_into_the_run(run):
    steps = [json.loads(line)["step"] for line in (run.dir / "gradient_flow.jsonl").read_text().splitlines()]
    assert steps == [1, 5, 10, 15]  # 1078 training examples in batches of 64: 17 steps
    units = [json.loads(line) for line in (run.dir / "unit_statistics.jsonl").read_text().splitlines()]
    assert set(units[0]["layers"]) == {"dense_1", "dense_2"} and units[0]["layers"]["dense_2"]["dead_percent"] is None
    report = (run.dir / "report.html").read_text()
    for name in ("gradient_flow_during_training", "update_ratio_during_training", "units_during_training"):
        assert (run.dir / "plots" / f"{name}.png").is_file() and name.replace("_", " ") in report


def test_lamina_diagnose_prints_tables_and_refreshes_the_report(run):
    result = CliRunner().invoke(app, ["diagnose", str(run.dir), "--examples", "60"])
    assert result.exit_code == 0, result.output
    for text in ("on 60 validation examples", "Gradient flow", "Jacobian spectra", "Units", "dense_1", "Sigmoid"):
        assert text in result.output
    figures = [
        "gradient_flow",
        "jacobian_product_spectrum",
        "jacobian_layer_spectra",
        "activation_histograms",
        "first_layer_filters",
        "embedding_pca",
        "saliency",
    ]
    report = (run.dir / "report.html").read_text()
    for name in figures:
        assert (run.dir / "plots" / f"diagnose_{name}.png").is_file() and f"diagnose {name.replace('_', ' ')}" in report
    saved = json.loads((run.dir / "diagnostics.json").read_text())
    assert saved["examples"] == 60 and [r["name"] for r in saved["gradient_flow"]["layers"]] == [
        "dense_1",
        "dense_2",
        "dense_3",
    ]
    assert saved["skipped"] == {}


def test_lamina_diagnose_bad_input(run, tmp_path):
    runner = CliRunner()
    result = runner.invoke(app, ["diagnose", str(run.dir), "--layer", "dense_5", "--examples", "20"])
    assert result.exit_code == 2 and "no layer 'dense_5'" in result.output
    assert "flatten_0, dense_1, dense_2, dense_3" in result.output.replace("\n", "")
    result = runner.invoke(app, ["diagnose", str(tmp_path / "missing")])
    assert result.exit_code == 2 and "no such run folder" in result.output
    result = runner.invoke(app, ["diagnose", str(run.dir), "--split", "tset"])
    assert result.exit_code == 2 and "unknown split 'tset'" in result.output


def test_diagnose_skips_what_does_not_apply_and_says_why(tmp_path):
    torch.manual_seed(0)
    graph = lamina.build_model(
        {
            "inputs": ["x"],
            "nodes": [
                {"name": "hidden", "type": "dense", "units": 4, "activation": "tanh", "inputs": ["x"]},
                {"name": "out", "type": "dense", "units": 1},
            ],
        },
        (3,),
    )
    result = diagnose(graph, (torch.randn(20, 3), torch.randn(20, 1)), folder=tmp_path)
    assert "needs a chain of layers" in result.skipped["jacobian spectrum"]
    assert "do not form a square image" in result.skipped["first-layer filters"]
    assert "needs a classifier" in result.skipped["saliency"]
    assert result.embedding.layer == "hidden" and result.units["hidden"].kind == "Tanh"
    assert {p.name for p in result.figures} == {
        "diagnose_gradient_flow.png",
        "diagnose_activation_histograms.png",
        "diagnose_embedding_pca.png",
    }
    json.dumps(result.to_dict())
    with pytest.raises(lamina.diagnostics.DiagnosticsError, match="diagnose needs a model with trainable parameters"):
        diagnose(nn.Sequential(nn.ReLU()), torch.randn(3, 2))
