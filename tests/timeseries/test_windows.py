"""make_windows against windows written out by hand, and its bad-input messages."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from lamina.errors import DataError
from lamina.timeseries import SeriesScaler, WindowSpec, make_windows

Y = [10.0, 11, 12, 13, 14, 15, 16, 17, 18, 19]
U = [[100.0 + i, 200.0 + i] for i in range(10)]  # two exogenous features


def test_plain_lags_by_hand():
    w = make_windows(Y[:6], lags=3)
    assert w.inputs.tolist() == [[10, 11, 12], [11, 12, 13], [12, 13, 14]]
    assert w.targets.tolist() == [[13], [14], [15]]
    assert w.time.tolist() == [3, 4, 5]


def test_exogenous_lags_and_horizon_by_hand():
    # t = last observed index; inputs y(t-2..t), u(t-1), u(t) (delay 1); targets y(t+1), y(t+2)
    w = make_windows(Y, lags=3, horizon=2, exogenous=U, exogenous_lags=2)
    assert len(w.inputs) == 6  # t = 2 .. 7
    assert w.inputs[0].tolist() == [10, 11, 12, 101, 201, 102, 202]
    assert w.targets[0].tolist() == [13, 14]
    assert w.inputs[-1].tolist() == [15, 16, 17, 106, 206, 107, 207]
    assert w.targets[-1].tolist() == [18, 19]
    assert w.time.tolist() == [3, 4, 5, 6, 7, 8]


def test_delay_zero_reads_the_input_at_the_predicted_step():
    w = make_windows(Y, lags=3, exogenous=U, exogenous_lags=2, delay=0)
    assert w.inputs[0].tolist() == [10, 11, 12, 102, 202, 103, 203]  # u(t), u(t+1) with t = 2
    assert w.targets[0].tolist() == [13]


def test_more_exogenous_lags_than_output_lags_start_later():
    w = make_windows(Y, lags=1, exogenous=[u[0] for u in U], exogenous_lags=4)
    assert w.inputs[0].tolist() == [13, 100, 101, 102, 103]  # t = 3: y(3); u(0..3)
    assert w.targets[0].tolist() == [14]


def test_spacing_taps_every_s_steps():
    w = make_windows(Y, lags=3, spacing=2)
    assert w.inputs[0].tolist() == [10, 12, 14]
    assert w.targets[0].tolist() == [15]
    assert len(w.inputs) == 5


def test_sequence_layout_puts_y_and_u_side_by_side():
    w = make_windows(Y, lags=3, exogenous=[u[0] for u in U], layout="sequence")
    assert w.inputs.shape == (7, 3, 2)
    assert w.inputs[0].tolist() == [[10, 100], [11, 101], [12, 102]]
    w = make_windows(Y, lags=2, layout="sequence")
    assert w.inputs.shape == (8, 2, 1)


def test_window_count_formula():
    for lags, horizon, spacing in [(1, 1, 1), (5, 3, 1), (4, 1, 6)]:
        spec = WindowSpec(lags, horizon, spacing)
        w = make_windows(np.arange(50.0), lags, horizon, spacing=spacing)
        assert len(w.inputs) == 50 - horizon - (lags - 1) * spacing == 50 - spec.min_length + 1


def test_too_short_says_how_long_it_must_be():
    with pytest.raises(
        DataError,
        match=r"a series of 5 values is too short for lags=5, horizon=1: it must hold at "
        r"least 6 values",
    ):
        make_windows(range(5), lags=5)
    with pytest.raises(DataError, match="at least 9 values"):  # taps at t-6, t-4, t-2, t: 7 values, then 2 targets
        make_windows(range(8), lags=4, horizon=2, spacing=2)


def test_nan_values_are_refused_with_their_positions():
    with pytest.raises(DataError, match=r"series holds 2 NaN or infinite value\(s\), at index 1, 4"):
        make_windows([1.0, math.nan, 3, 4, math.inf, 6, 7], lags=2)
    with pytest.raises(DataError, match=r"exogenous holds 1 NaN .* at index 2"):
        make_windows(Y, lags=2, exogenous=[0, 1, math.nan, 3, 4, 5, 6, 7, 8, 9])


def test_misaligned_or_inconsistent_exogenous_inputs():
    with pytest.raises(DataError, match="exogenous inputs have 9 time steps and the series 10"):
        make_windows(Y, lags=2, exogenous=U[:9])
    with pytest.raises(DataError, match="exogenous_lags=2 but no exogenous inputs"):
        make_windows(Y, lags=2, exogenous_lags=2)
    with pytest.raises(DataError, match=r"expected one value per time step, shape \(T,\), got shape \(10, 2\)"):
        make_windows(U, lags=2)
    with pytest.raises(ValueError, match="needs exogenous_lags == lags"):
        make_windows(Y, lags=3, exogenous=U, exogenous_lags=2, layout="sequence")


def test_bad_window_options():
    with pytest.raises(ValueError, match=r"^Invalid WindowSpec: lags: expected an integer >= 1, got 0$"):
        make_windows(Y, lags=0)
    with pytest.raises(ValueError, match=r"^Invalid WindowSpec: delay: expected an integer in \[0, 1\], got 2$"):
        WindowSpec(3, delay=2)
    with pytest.raises(ValueError, match=r"layout: expected one of 'flat', 'sequence', got 'seq'"):
        WindowSpec(3, layout="seq")


def test_tensor_input_and_dtype():
    w = make_windows(torch.arange(6.0), lags=2, dtype=torch.float64)
    assert w.inputs.dtype == torch.float64 and w.targets[-1].item() == 5.0


def test_scaler_fits_on_training_part_only_and_inverts():
    train, test = np.array([1.0, 2.0, 3.0]), np.array([10.0, 20.0])
    for method, expected in [
        ("standard", (test - 2.0) / np.std(train)),
        ("minmax", (test - 1.0) / 2.0),
        ("none", test),
    ]:
        scaler = SeriesScaler(method).fit(train)
        np.testing.assert_allclose(scaler.transform(test), expected)
        np.testing.assert_allclose(scaler.inverse_transform(scaler.transform(test)), test)
        t = torch.tensor(test)
        torch.testing.assert_close(scaler.inverse_transform(scaler.transform(t)), t)
    with pytest.raises(RuntimeError, match="not fitted"):
        SeriesScaler().transform(test)
    with pytest.raises(ValueError, match="`method` must be one of"):
        SeriesScaler("robust")
