"""The time-series example experiments validate and build, and ``lamina.train`` on a series dataset leaves the test
NMSE, a closed-loop forecast and plots/forecast.png in the run folder."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

import lamina
from tests.data.test_series import needs_sunspots

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
SERIES_EXAMPLES = sorted(p.name for p in EXAMPLES.glob("*.toml") if p.name.startswith(("sunspots", "mackey_glass")))


def test_there_are_examples_for_each_network():
    assert {
        "sunspots_tdnn.toml",
        "sunspots_elman.toml",
        "sunspots_narx.toml",
        "sunspots_lstm.toml",
        "mackey_glass_tdnn.toml",
        "mackey_glass_narx.toml",
        "mackey_glass_gru.toml",
    } <= set(SERIES_EXAMPLES)


@needs_sunspots
@pytest.mark.parametrize("name", SERIES_EXAMPLES)
def test_example_validates_and_builds(name):
    exp = lamina.load_experiment(EXAMPLES / name)
    train, _, test = exp.data.load()
    model = lamina.build_model(exp.model, train.input_shape)
    assert model(train.x[:3]).shape == (3, exp.data.horizon)
    assert len(test) > 0


@needs_sunspots
def test_train_a_series_experiment_end_to_end(tmp_path):
    run = lamina.train(
        EXAMPLES / "sunspots_tdnn.toml",
        out=tmp_path,
        progress="none",
        overrides=["train.epochs=5", "train.checkpoint_every=5"],
    )
    summary = json.loads((run.dir / "summary.json").read_text())
    forecast = summary["forecast"]
    assert forecast["closed_loop_steps"] == 35  # 1921-1955
    assert forecast["test_nmse"] == pytest.approx(summary["test"]["nmse"], rel=1e-4)  # units do not change NMSE
    assert forecast["test_arv_reference_variance"] > 0 and forecast["closed_loop_nrmse"] > 0
    assert (run.dir / "plots" / "forecast.png").is_file()
    assert "alt='forecast'" in (run.dir / "report.html").read_text()  # embedded in the report
    # the run reloads and evaluates like any other
    again = lamina.Run.open(run.dir)
    assert again.evaluate("test")["nmse"] == pytest.approx(summary["test"]["nmse"], rel=1e-5)


def test_a_lag_mismatch_names_the_layer(tmp_path):
    exp = lamina.load_experiment(EXAMPLES / "mackey_glass_narx.toml", overrides=["data.lags=12"])
    with pytest.raises(
        lamina.ShapeError,
        match=r"model.layers\[0\] \(narx\): expects 18 output lags and no "
        r"exogenous ones, a window of shape \(18,\), got \(12,\)",
    ):
        lamina.build_model(exp.model, exp.data.load().train.input_shape)


@needs_sunspots
def test_the_kalman_filter_example_trains_one_update_per_window(tmp_path):
    run = lamina.train(EXAMPLES / "sunspots_tdnn_ekf.toml", out=tmp_path, progress="none", overrides=["train.epochs=1"])
    summary = json.loads((run.dir / "summary.json").read_text())
    assert type(run.experiment.train.optimizer).__name__ == "EKFSpec"
    assert summary["steps"] == summary["train_examples"]  # batch_size = 1: a filter update per training window
    # one pass of per-window Kalman updates already fits far better than predicting the training mean (NMSE 1)
    assert summary["test"]["nmse"] < 0.9
