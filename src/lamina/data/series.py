"""Time series: the Mackey-Glass delay differential equation (Mackey & Glass, 1977), the yearly sunspot numbers
(Wolfer/Zurich, as shipped by statsmodels) and numeric columns of a user's CSV file.

``dx/dt = a x(t - tau) / (1 + x(t - tau)^power) - b x(t)`` is chaotic for ``tau = 17`` with ``a = 0.2``, ``b = 0.1``,
``power = 10`` (the benchmark of Lapedes & Farber, 1987, and of the time-series literature since).
"""

from __future__ import annotations

import csv
import io
import math
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from lamina.data.encoding import read_text_file
from lamina.data.sources import RemoteFile, fetch
from lamina.errors import DataError

__all__ = ["mackey_glass", "history_knots", "SUNSPOTS_FILE", "read_sunspots", "read_csv_columns"]

SUNSPOTS_FILE = RemoteFile(
    "sunspots",
    "sunspots.csv",
    "f67889b1d9002cd5227f0e0ef54e35b419cdd85a31279adef6f73fb41e5c0a9b",
    ("https://raw.githubusercontent.com/statsmodels/statsmodels/main/statsmodels/datasets/sunspots/sunspots.csv",),
    size=2944,
)


def mackey_glass(
    n: int,
    *,
    tau: float = 17.0,
    a: float = 0.2,
    b: float = 0.1,
    power: float = 10.0,
    dt: float = 0.1,
    sample_every: float = 1.0,
    discard: int = 500,
    x0: float = 1.2,
    seed: int | None = None,
) -> np.ndarray:
    """``n`` samples of the Mackey-Glass series, one every ``sample_every`` time units.

    ``dx/dt = a x(t - tau) / (1 + x(t - tau)^power) - b x(t)``, integrated with the classical fourth-order
    Runge-Kutta method at step ``dt`` (``tau / dt`` and ``sample_every / dt`` must be whole numbers, so the delayed
    value is needed on the grid and half-way between grid points). The half-step delayed value is the cubic Hermite
    interpolant of the two neighbouring grid values and their derivatives (known from the equation itself):
    ``x(t + dt/2) = (x0 + x1) / 2 + dt (x0' - x1') / 8``, fourth-order accurate like RK4, so the scheme stays
    fourth order (linear interpolation there would cap it at second order). Inside the initial history the
    half-step value is the history's own (:func:`history_knots`).

    The history on ``[-tau, 0]`` is the constant ``x0``, or, with a ``seed``, ``x0`` plus independent uniform
    noise in ``[-0.1, 0.1]`` at knots about one time unit apart, linear in between; it does not depend on ``dt``.
    The first ``discard`` samples (the transient) are dropped. With ``dt = 0.1`` the samples agree with an adaptive
    DOP853 integration (rtol 1e-11) of the same history to better than 1e-6 over the first 300 time units
    (``tests/data/test_series.py``).

    Args:
        n: number of samples returned.
        tau, a, b, power: the equation's delay and coefficients.
        dt: integration step.
        sample_every: time between returned samples.
        discard: samples dropped at the start.
        x0: the history's value.
        seed: seeds the noisy history (``None``: the constant history).

    Returns:
        float64 array of shape ``(n,)``: ``x(discard * sample_every), x((discard + 1) * sample_every), ...``.

    References:
        Mackey & Glass (1977), Oscillation and chaos in physiological control systems. Science 197.
        Lapedes & Farber (1987), Nonlinear signal processing using neural networks. LA-UR-87-2662.
    """
    for name, value in (("n", n), ("discard", discard)):
        if isinstance(value, bool) or not isinstance(value, int) or value < (1 if name == "n" else 0):
            raise ValueError(f"`{name}` must be an integer >= {1 if name == 'n' else 0}, got {value!r}")
    for name, value in (("dt", dt), ("tau", tau), ("sample_every", sample_every)):
        if not (isinstance(value, (int, float)) and math.isfinite(value) and value > 0):
            raise ValueError(f"`{name}` must be a positive number, got {value!r}")
    delay, stride = round(tau / dt), round(sample_every / dt)
    if abs(delay * dt - tau) > 1e-9 * tau or abs(stride * dt - sample_every) > 1e-9 * sample_every or stride < 1:
        raise ValueError(f"`tau` ({tau}) and `sample_every` ({sample_every}) must be whole multiples of `dt` ({dt})")
    steps = (n + discard) * stride
    knots, values = history_knots(tau, x0, seed)
    grid = np.arange(delay + 1) * dt - tau
    x = np.empty(delay + steps + 1)  # x[i] = x((i - delay) dt): the history, then the solution
    x[: delay + 1] = np.interp(grid, knots, values)
    history_half = np.interp(grid[:-1] + dt / 2, knots, values)  # exact half-step values of the history
    slope = np.zeros_like(x)  # x'(t) at the grid points of the solution (t >= 0)

    def _f(now: float, lagged: float) -> float:
        return a * lagged / (1.0 + lagged**power) - b * now

    slope[delay] = _f(x[delay], x[0])
    for i in range(delay, delay + steps):
        j = i - delay  # grid index of t - tau
        lag0, lag1 = x[j], x[j + 1]
        if j >= delay:  # t - tau >= 0: Hermite midpoint on the smooth solution
            lag_half = 0.5 * (lag0 + lag1) + dt * (slope[j] - slope[j + 1]) / 8.0
        else:  # inside the given history
            lag_half = history_half[j]
        xi = x[i]
        k1 = slope[i]
        k2 = _f(xi + 0.5 * dt * k1, lag_half)
        k3 = _f(xi + 0.5 * dt * k2, lag_half)
        k4 = _f(xi + dt * k3, lag1)
        x[i + 1] = xi + dt / 6.0 * (k1 + 2 * k2 + 2 * k3 + k4)
        slope[i + 1] = _f(x[i + 1], x[i + 1 - delay])  # the next step's k1, and the Hermite slope tau later
    samples = x[delay::stride]  # t = 0, sample_every, 2 sample_every, ...
    return samples[discard : discard + n].copy()


def history_knots(tau: float, x0: float, seed: int | None) -> tuple[np.ndarray, np.ndarray]:
    """The initial history of :func:`mackey_glass` as knots ``(times, values)`` of a piecewise-linear function on
    ``[-tau, 0]``: ``x0`` everywhere (``seed=None``), or ``x0 + U(-0.1, 0.1)`` at ``round(tau) + 1`` equally spaced
    knots (one time unit apart for a whole ``tau``) drawn from ``numpy.random.default_rng(seed)``."""
    if seed is None:
        return np.array([-tau, 0.0]), np.array([x0, x0])
    k = max(1, round(tau))
    return np.linspace(-tau, 0.0, k + 1), x0 + np.random.default_rng(seed).uniform(-0.1, 0.1, k + 1)


def read_sunspots(path: str | Path | None = None) -> tuple[np.ndarray, np.ndarray]:
    """The yearly sunspot numbers 1700-2008 (``years``, ``values``) from statsmodels' ``sunspots.csv``.

    Args:
        path: the CSV file; ``None`` fetches the registered, sha256-checked file (``$LAMINA_DATA/sunspots/``).

    Returns:
        int64 years and float64 yearly mean sunspot numbers (Wolfer/Zurich, the pre-2015 scale).
    """
    path = fetch(SUNSPOTS_FILE) if path is None else Path(path)
    columns = read_csv_columns(path, ["YEAR", "SUNACTIVITY"])
    return columns["YEAR"].astype(np.int64), columns["SUNACTIVITY"]


def read_csv_columns(path: str | Path, columns: Sequence[str] | None = None) -> dict[str, np.ndarray]:
    """Numeric columns of a CSV file with a header line, as float64 arrays.

    Args:
        path: the file.
        columns: the columns wanted (``None``: every column).

    Raises:
        DataError: a missing file or column (listing the columns there are), a ragged row, or a value that is not
            a number (naming the column, the row and the value). Empty cells and ``nan`` are read as NaN, which the
            windowing then refuses with their positions.
    """
    path = Path(path)
    if not path.is_file():
        raise DataError(f"{path}: no such file")
    try:
        rows = [
            row
            for row in csv.reader(io.StringIO(read_text_file(path), newline=""))
            if any(cell.strip() for cell in row)
        ]
    except csv.Error as err:  # a NUL byte, an unterminated quote at the end of the file
        raise DataError(f"{path}: not a readable CSV file ({err})") from None
    if len(rows) < 2:
        raise DataError(f"{path}: needs a header line and at least one row of values, found {len(rows)} line(s)")
    header = [h.strip() for h in rows[0]]
    wanted = list(header) if columns is None else list(columns)
    missing = [c for c in wanted if c not in header]
    if missing:
        raise DataError(f"{path}: no column {missing[0]!r}; the columns are {', '.join(map(repr, header))}")
    out = {}
    for name in wanted:
        c = header.index(name)
        values = np.empty(len(rows) - 1)
        for r, row in enumerate(rows[1:], start=2):
            if len(row) != len(header):
                raise DataError(f"{path}: line {r} has {len(row)} values, the header {len(header)}")
            cell = row[c].strip()
            try:
                values[r - 2] = float(cell) if cell else math.nan
            except ValueError:
                raise DataError(f"{path}: column {name!r} is not numeric: line {r} holds {cell!r}") from None
        out[name] = values
    return out
