"""forecast() against recursions written out by hand for linear models with known coefficients."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from lamina.errors import DataError
from lamina.timeseries import NARX, TDNN, SeriesScaler, WindowSpec, forecast, make_windows


def _linear_narx(coef_y, coef_u=(), bias=0.0, delay=1, horizon=1):
    model = NARX(
        len(coef_y),
        exogenous_lags=len(coef_u),
        hidden=(),
        activation="identity",
        delay=delay,
        outputs=horizon,
        dtype=torch.float64,
    )
    with torch.no_grad():
        model.net.output.weight.copy_(torch.tensor([list(coef_y) + list(coef_u)] * horizon, dtype=torch.float64))
        model.net.output.bias.fill_(bias)
    return model


def test_closed_loop_is_the_recursion_by_hand():
    model = _linear_narx([0.2, -0.5, 0.9], bias=0.1)  # y(t+1) = 0.2 y(t-2) - 0.5 y(t-1) + 0.9 y(t) + 0.1
    history = [1.0, 2.0, 0.5, -1.0]
    y = list(history)
    for _ in range(6):
        y.append(0.2 * y[-3] - 0.5 * y[-2] + 0.9 * y[-1] + 0.1)
    np.testing.assert_allclose(forecast(model, history, 6), y[4:])


def test_open_loop_uses_the_measured_values_and_equals_the_windows():
    model = _linear_narx([0.5, 0.3])
    series = np.sin(np.arange(20.0))
    pred = forecast(model, series[:10], 10, closed_loop=False, actual=series[10:])
    by_hand = 0.5 * series[8:18] + 0.3 * series[9:19]
    np.testing.assert_allclose(pred, by_hand)
    w = make_windows(series, lags=2, dtype=torch.float64)
    np.testing.assert_allclose(pred, model(w.inputs[8:]).detach().numpy().ravel())
    with pytest.raises(ValueError, match="an open-loop forecast feeds back the measured values: pass `actual`"):
        forecast(model, series[:10], 3, closed_loop=False)


def test_exogenous_inputs_with_delay_one_and_zero():
    u = np.arange(100.0, 120.0)
    for delay in (1, 0):
        model = _linear_narx([0.5], [1.0, -1.0], delay=delay)  # y(t+1) = 0.5 y(t) + u(t-d) - u(t+1-d)... d = delay
        history, y = [1.0, 2.0, 3.0], [1.0, 2.0, 3.0]
        for t in range(2, 7):  # predict y(t+1) from y(t), u(t-delay), u(t+1-delay)
            y.append(0.5 * y[t] + u[t - delay] - u[t + 1 - delay])
        pred = forecast(model, history, 5, exogenous=u[:3], future_exogenous=u[3:])
        np.testing.assert_allclose(pred, y[3:])


def test_horizon_blocks_feed_all_predicted_values_back():
    # two outputs, both 0.5 y(t) + 0.5 y(t-1): a block predicts the same value twice, which is then fed back
    model = _linear_narx([0.5, 0.5], horizon=2)
    y = [0.0, 4.0]
    while len(y) < 7:
        v = 0.5 * y[-1] + 0.5 * y[-2]
        y += [v, v]
    np.testing.assert_allclose(forecast(model, [0.0, 4.0], 5), y[2:7])


def test_batch_of_histories_equals_one_by_one_and_scaler_round_trip():
    torch.manual_seed(0)
    model = TDNN(lags=3, hidden=(5,), dtype=torch.float64)
    histories = np.random.default_rng(0).normal(size=(4, 10)) * 10 + 50
    scaler = SeriesScaler("standard").fit(histories[0])
    batch = forecast(model, histories, 7, scaler=scaler)
    assert batch.shape == (4, 7)
    for b in range(4):
        np.testing.assert_allclose(batch[b], forecast(model, histories[b], 7, scaler=scaler))
    # by hand: scale, recurse in scaled units, unscale
    z = list(scaler.transform(histories[0]))
    for _ in range(7):
        z.append(model(torch.tensor([z[-3:]], dtype=torch.float64)).item())
    np.testing.assert_allclose(batch[0], scaler.inverse_transform(np.array(z[10:])))


def test_sequence_layout_model_with_a_window_argument():
    model = torch.nn.Sequential(torch.nn.Flatten(), torch.nn.Linear(3, 1, bias=False)).double()
    with torch.no_grad():
        model[1].weight.copy_(torch.tensor([[0.0, 0.0, 1.0]]))  # y(t+1) = y(t): a constant forecast
    out = forecast(model, [1.0, 2.0, 3.0], 4, window=WindowSpec(3, layout="sequence"))
    np.testing.assert_allclose(out, [3.0] * 4)
    with pytest.raises(ValueError, match="does not say how its inputs are windowed; pass `window="):
        forecast(model, [1.0, 2.0, 3.0], 4)


def test_bad_input_messages():
    model = _linear_narx([0.5], [1.0, 1.0])
    u = np.arange(20.0)
    with pytest.raises(
        DataError,
        match=r"a forecast of 10 steps with delay=1 reads the exogenous inputs of the next 9 "
        r"time steps, but `future_exogenous` has 4 rows; forecast at most 5 steps",
    ):
        forecast(model, [1.0, 2.0], 10, exogenous=u[:2], future_exogenous=u[2:6])
    with pytest.raises(DataError, match="the model reads 2 exogenous lags: pass `exogenous`"):
        forecast(model, [1.0, 2.0], 3)
    with pytest.raises(
        DataError,
        match=r"a history of 2 values is too short for lags=3, horizon=1: forecasting "
        r"needs at least 3 past values",
    ):
        forecast(_linear_narx([1.0, 1.0, 1.0]), [1.0, 2.0], 3)
    with pytest.raises(DataError, match=r"history holds 1 NaN or infinite value\(s\), at index 1"):
        forecast(_linear_narx([1.0]), [1.0, float("nan"), 2.0], 3)
    with pytest.raises(ValueError, match="`steps` must be a positive integer, got 0"):
        forecast(_linear_narx([1.0]), [1.0], 0)
