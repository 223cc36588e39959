"""NARX against numpy: a linear NARX (no hidden layer, identity units) fitted by least squares through lamina's
trainer equals ``numpy.linalg.lstsq`` on a lag matrix built here by hand; the nonlinear one learns a NARX system
and forecasts it closed-loop."""

from __future__ import annotations

import numpy as np
import pytest
import torch

import lamina
from lamina.data import ArrayDataset
from lamina.errors import ShapeError
from lamina.timeseries import NARX, forecast, make_windows, nrmse


def _arx_data(n=300, seed=0):
    rng = np.random.default_rng(seed)
    u = rng.normal(size=(n, 2))
    y = np.zeros(n)
    for t in range(2, n):  # y(t+1) = 0.5 y(t) - 0.3 y(t-1) + 0.8 u1(t) + 0.2 u1(t-1) - 0.4 u2(t) + 0.1 + noise
        y[t] = 0.5 * y[t - 1] - 0.3 * y[t - 2] + 0.8 * u[t - 1, 0] + 0.2 * u[t - 2, 0] - 0.4 * u[t - 1, 1] + 0.1
        y[t] += 0.05 * rng.normal()
    return y, u


def test_linear_narx_least_squares_equals_numpy_lstsq():
    y, u = _arx_data()
    ny, nu = 3, 2
    # the design matrix by hand: rows [y(t-2), y(t-1), y(t), u(t-1), u(t)] -> y(t+1), t = 2 .. n-2
    rows, targets = [], []
    for t in range(2, len(y) - 1):
        rows.append([y[t - 2], y[t - 1], y[t], *u[t - 1], *u[t]])
        targets.append(y[t + 1])
    design = np.column_stack([np.array(rows), np.ones(len(rows))])
    coef, *_ = np.linalg.lstsq(design, np.array(targets), rcond=None)

    w = make_windows(y, lags=ny, exogenous=u, exogenous_lags=nu, dtype=torch.float64)
    torch.manual_seed(0)
    model = NARX(ny, exogenous_lags=nu, exogenous_features=2, hidden=(), activation="identity", dtype=torch.float64)
    trainer = lamina.Trainer(
        model,
        loss="mse",
        epochs=1,
        batch_size=len(w.inputs),
        seed=0,
        optimizer={
            "type": "lbfgs",
            "max_iter": 100,
            "tolerance_grad": 1e-12,
            "tolerance_change": 1e-14,
            "line_search_fn": "strong_wolfe",
        },
    )
    trainer.fit(ArrayDataset(w.inputs, w.targets))
    weight = model.net.output.weight.detach().numpy().ravel()
    bias = model.net.output.bias.detach().numpy()
    # the flat window lists u(t-1)'s two features, then u(t)'s: the same column order as the design above
    np.testing.assert_allclose(np.r_[weight, bias], coef, atol=1e-6)


def test_narx_learns_a_nonlinear_system_and_forecasts_it_closed_loop():
    rng = np.random.default_rng(1)
    n = 400
    u = rng.uniform(-1, 1, n)
    y = np.zeros(n)
    for t in range(1, n - 1):
        y[t + 1] = 0.6 * y[t] / (1 + y[t] ** 2) + np.tanh(u[t]) + 0.3 * u[t - 1]
    w = make_windows(y[:300], lags=2, exogenous=u[:300], exogenous_lags=2)
    torch.manual_seed(0)
    model = NARX(2, exogenous_lags=2, hidden=(10,))
    lamina.Trainer(
        model,
        loss="mse",
        epochs=1,
        optimizer={"type": "lbfgs", "max_iter": 200, "line_search_fn": "strong_wolfe"},
        batch_size=len(w.inputs),
        seed=0,
    ).fit(ArrayDataset(w.inputs, w.targets))
    # closed loop: its own predictions fed back for 99 steps; u known for the future (delay 1 needs 98 rows)
    pred = forecast(model, y[:300], 99, exogenous=u[:300], future_exogenous=u[300:398])
    assert nrmse(pred, y[300:399]) < 0.05


def test_forward_with_separate_lags_equals_flat_window():
    model = NARX(3, exogenous_lags=2, exogenous_features=2, hidden=(4,))
    y_lags, u_lags = torch.randn(5, 3), torch.randn(5, 2, 2)
    flat = torch.cat([y_lags, u_lags.reshape(5, 4)], dim=1)
    torch.testing.assert_close(model(y_lags, u_lags), model(flat))
    with pytest.raises(
        ShapeError,
        match=r"NARX expects a flat window of 3 output lags \+ 2 exogenous lags x 2 "
        r"feature\(s\) = 7 values, shape \(N, 7\), got \(5, 6\)",
    ):
        model(torch.randn(5, 6))


def test_narx_layer_checks_the_window_against_its_lags():
    spec = lamina.resolve("layer", {"type": "narx", "output_lags": 4, "exogenous_lags": 3})
    with pytest.raises(ShapeError, match="expects 4 output lags \\+ 3 exogenous lags x features, got a window of 9"):
        spec.output_shape((9,))
    with pytest.raises(
        ShapeError,
        match=r"expects 4 output lags and no exogenous ones, a window of shape \(4,\), "
        r"got \(6,\)",
    ):
        lamina.resolve("layer", {"type": "narx", "output_lags": 4}).output_shape((6,))
