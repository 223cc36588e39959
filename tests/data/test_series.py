"""Series data: the Mackey-Glass generator against an independent scipy integration, the sunspot file and the
Weigend split, the series datasets' windows, and CSV series with their bad-input messages."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest
from scipy.integrate import solve_ivp

import lamina
from lamina.data.series import history_knots, mackey_glass, read_sunspots
from lamina.errors import DataError

_DATA = os.environ.get("LAMINA_DATA")
HAS_SUNSPOTS = bool(_DATA) and (Path(_DATA or ".") / "sunspots" / "sunspots.csv").is_file()
needs_sunspots = pytest.mark.skipif(not HAS_SUNSPOTS, reason="sunspots/sunspots.csv not found in $LAMINA_DATA")


def _reference_mackey_glass(until: int, *, tau=17.0, a=0.2, b=0.1, power=10.0, x0=1.2, seed=None) -> np.ndarray:
    """x(0), x(1), ..., x(until) by the method of steps: adaptive DOP853 (rtol 1e-11) on pieces where the delayed
    term is smooth (between the history's knots, then tau-long pieces), x(t - tau) read from the history or from the
    dense output of the earlier pieces."""
    knots, values = history_knots(tau, x0, seed)
    pieces = []

    def delayed(t):
        s = t - tau
        if s <= 0:
            return np.interp(s, knots, values)
        for start, stop, sol in reversed(pieces):
            if start <= s <= stop:
                return sol.sol(s)[0]
        raise AssertionError(f"no piece holds {s}")

    bounds = [(k0 + tau, k1 + tau) for k0, k1 in zip(knots[:-1], knots[1:])]
    while bounds[-1][1] < until:
        bounds.append((bounds[-1][1], bounds[-1][1] + tau))
    x = values[-1]
    for start, stop in bounds:

        def rhs(t, y):
            lag = delayed(t)
            return [a * lag / (1 + lag**power) - b * y[0]]

        sol = solve_ivp(rhs, (start, stop), [x], method="DOP853", rtol=1e-11, atol=1e-13, dense_output=True)
        pieces.append((start, stop, sol))
        x = sol.y[0, -1]
    return np.array([next(sol for s0, s1, sol in pieces if s0 <= t <= s1).sol(t)[0] for t in range(until + 1)])


@pytest.mark.parametrize("seed", [None, 3])
def test_mackey_glass_matches_an_independent_scipy_integration(seed):
    # 300 time units: long enough to cross 17 delay intervals, short enough that two accurate integrators of this
    # chaotic system still agree (the largest Lyapunov exponent is about 0.007 per time unit)
    reference = _reference_mackey_glass(300, seed=seed)
    ours = mackey_glass(301, discard=0, seed=seed)
    assert np.abs(ours - reference).max() < 1e-5  # the issue asks for 1e-3; measured about 1e-8


def test_mackey_glass_is_fourth_order_and_stays_in_its_attractor():
    reference = mackey_glass(101, discard=0, dt=0.0125)
    coarse, fine = (np.abs(mackey_glass(101, discard=0, dt=h) - reference).max() for h in (0.2, 0.1))
    assert coarse / fine > 10  # halving the step divides the error by about 2^4 = 16
    x = mackey_glass(2000)
    assert 0.2 < x.min() and x.max() < 1.5 and x.std() > 0.2


def test_mackey_glass_bad_arguments():
    with pytest.raises(ValueError, match=r"must be whole multiples of `dt`"):
        mackey_glass(10, dt=0.3)
    with pytest.raises(ValueError, match="`n` must be an integer >= 1, got 0"):
        mackey_glass(0)


def test_mackey_glass_dataset_windows_and_split():
    train, val, test = lamina.data.load("mackey_glass", train_samples=300, test_samples=100, validation=50)
    # 4 taps 6 apart: the first target is x(19); 300 - 19 = 281 training windows, 50 of them held out
    assert (len(train), len(val), len(test)) == (231, 50, 100)
    assert train.input_shape == (4,)
    spec = lamina.data.spec("mackey_glass", train_samples=300, test_samples=100)
    p = spec.prepare()
    raw = p.data.values
    np.testing.assert_allclose(
        p.scaler.inverse_transform(test.x[0].double().numpy()), raw[[281, 287, 293, 299]], rtol=1e-6
    )
    assert np.mean(p.scaler.transform(raw[:300])) == pytest.approx(0.0, abs=1e-12)  # scaled on training data only


@needs_sunspots
def test_sunspots_file_and_the_weigend_split():
    years, values = read_sunspots()
    assert (years[0], years[-1], len(years)) == (1700, 2008, 309)
    assert values[0] == 5.0 and values[list(years).index(1957)] == 190.2
    train, val, test = lamina.data.load("sunspots")
    assert (len(train), len(test), train.input_shape) == (221 - 12, 35, (12,))  # targets 1712-1920; 1921-1955
    late = lamina.data.load("sunspots", test_period="1956-1979", layout="sequence").test
    assert (len(late), late.input_shape) == (24, (12, 1))
    assert float(train.x.min()) >= 0.0 and float(train.x.max()) <= 1.0  # min-max scaled on 1700-1920


def _csv(tmp_path, text: str) -> str:
    path = tmp_path / "series.csv"
    path.write_text(text)
    return str(path)


def test_csv_series_with_exogenous_columns(tmp_path):
    rows = "\n".join(f"{t},{np.sin(t):.6f},{t % 3}" for t in range(40))
    path = _csv(tmp_path, "day,load,weekday\n" + rows + "\n")
    spec = lamina.data.spec(
        "csv_series",
        path=path,
        column="load",
        exogenous=["weekday"],
        lags=3,
        exogenous_lags=2,
        time_column="day",
        test=10,
    )
    train, _, test = spec.load()
    assert train.input_shape == (3 + 2,) and len(test) == 10
    assert spec.window.exogenous_lags == 2


def test_csv_series_bad_input_names_the_column(tmp_path):
    path = _csv(tmp_path, "t,value,note\n0,1.0,a\n1,2.0,b\n2,x,c\n")
    with pytest.raises(DataError, match=r"column 'value' is not numeric: line 4 holds 'x'"):
        lamina.data.load("csv_series", path=path, column="value", lags=1)
    with pytest.raises(DataError, match=r"no column 'price'; the columns are 't', 'value', 'note'"):
        lamina.data.load("csv_series", path=path, column="price")
    path = _csv(tmp_path, "t,value\n0,1\n1,2\n2,\n3,4\n" + "4,5\n" * 20)  # an empty cell is missing
    with pytest.raises(DataError, match=r"column 'value' holds 1 NaN or infinite value\(s\), at index 2"):
        lamina.data.load("csv_series", path=path, column="value", lags=2)
    path = _csv(tmp_path, "value\n" + "1\n" * 10)
    with pytest.raises(
        DataError,
        match=r"the training period holds 8 values, too few for lags=12, horizon=1: it must "
        r"hold at least 13",
    ):
        lamina.data.load("csv_series", path=path, column="value", lags=12)
