"""``lamina forecast``: a closed-loop forecast from a run trained on a CSV series with an exogenous column."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from typer.testing import CliRunner

import lamina
from lamina.cli import app


@pytest.fixture(scope="module")
def csv_run(tmp_path_factory):
    threads = torch.get_num_threads()
    torch.set_num_threads(1)  # a tiny network: a second thread only adds synchronisation
    folder = tmp_path_factory.mktemp("forecast_cli")
    t = np.arange(120)
    u = np.sin(0.3 * t)
    y = 0.5 + 0.4 * np.roll(u, 1)  # y(t) = 0.5 + 0.4 u(t-1): a delay-1 exogenous system
    path = folder / "plant.csv"
    path.write_text("t,y,u\n" + "".join(f"{a},{b:.6f},{c:.6f}\n" for a, b, c in zip(t[1:], y[1:], u[1:])))
    exp = lamina.parse_experiment(
        {
            "name": "plant",
            "data": {
                "name": "csv_series",
                "path": str(path),
                "column": "y",
                "exogenous": ["u"],
                "lags": 2,
                "exogenous_lags": 2,
                "test": 20,
            },
            "model": {"layers": [{"type": "narx", "output_lags": 2, "exogenous_lags": 2, "hidden": []}]},
            "train": {"loss": "mse", "epochs": 2, "batch_size": 256, "optimizer": {"type": "lbfgs", "max_iter": 100}},
        }
    )
    try:
        run = lamina.train(exp, out=folder / "runs", progress="none")
    finally:
        torch.set_num_threads(threads)
    return run, folder, u


def test_forecast_after_a_csv_history_with_future_inputs(csv_run):
    run, folder, u = csv_run
    history = folder / "history.csv"
    rows = [f"{i},{0.5 + 0.4 * u[i - 1]:.6f},{u[i]:.6f}" for i in range(1, 60)]
    rows += [f"{i},,{u[i]:.6f}" for i in range(60, 70)]  # the future: inputs known, y empty
    history.write_text("t,y,u\n" + "\n".join(rows) + "\n")
    out = folder / "forecast.csv"
    result = CliRunner().invoke(
        app, ["forecast", str(run.dir), "--steps", "10", "--series", str(history), "--out", str(out)]
    )
    assert result.exit_code == 0, result.output
    values = np.loadtxt(out, delimiter=",", skiprows=1)[:, 1]
    np.testing.assert_allclose(values, 0.5 + 0.4 * u[59:69], atol=2e-3)  # the linear ARX fit is (nearly) exact


def test_too_few_future_inputs_is_a_clear_error(csv_run):
    run, folder, u = csv_run
    history = folder / "short.csv"
    history.write_text("t,y,u\n" + "".join(f"{i},0.5,{u[i]:.6f}\n" for i in range(1, 30)) + "30,,0.1\n")
    result = CliRunner().invoke(app, ["forecast", str(run.dir), "--steps", "5", "--series", str(history)])
    assert result.exit_code == 2
    assert "reads the exogenous inputs of the next 4 time steps, but `future_exogenous` has 1 rows" in result.output
