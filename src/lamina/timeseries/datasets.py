"""Series datasets for the trainer: ``[data] name = "sunspots" | "mackey_glass" | "csv_series"`` (registered here,
not in :mod:`lamina.data`, because they are cut into this package's lag windows).

A series dataset yields lag windows (``inputs -> the next horizon values``; see :mod:`lamina.timeseries.windows`):
a window belongs to the training set when all its targets lie in the training period and to the test set when all
its targets lie in the test period (its inputs may reach back into the training period, as a forecaster's do). The
scaling is fitted on the training period only. The validation set, if asked for, is the last training windows (or
a seeded random choice with ``split_seed``).

After training, ``lamina train`` calls :meth:`SeriesDatasetSpec.report_run`: the test NMSE/NRMSE/MAE in the
series' units, a closed-loop forecast over the test period, and ``plots/forecast.png``.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar

import numpy as np
import torch
from pydantic import PrivateAttr

from lamina.config.component import spec_base
from lamina.config.fields import choice, count, number
from lamina.data.dataset import ArrayDataset, DatasetSpec, Holdout, Splits, hold_out
from lamina.data.series import SUNSPOTS_FILE, mackey_glass, read_csv_columns, read_sunspots
from lamina.errors import DataError
from lamina.metrics.forecasting import mae, nmse
from lamina.registry import register
from lamina.timeseries.forecast import forecast
from lamina.timeseries.plots import plot_forecast
from lamina.timeseries.scaling import SeriesScaler
from lamina.timeseries.windows import WindowSpec, as_exogenous, as_series, make_windows

__all__ = ["SeriesData", "PreparedSeries", "SeriesDatasetSpec", "Sunspots", "MackeyGlass", "CSVSeries"]


@dataclass
class SeriesData:
    """A series and its periods: ``values[i]`` observed at ``time[i]``; training targets are the indices below
    ``train_end``, test targets those in ``[test[0], test[1])``."""

    time: np.ndarray
    values: np.ndarray
    train_end: int
    test: tuple[int, int]
    exogenous: np.ndarray | None = None
    time_label: str = "time step"
    value_label: str = "value"


@dataclass
class PreparedSeries:
    """A :class:`SeriesData` cut into windows: the fitted scalers, all windows, and which are train and test."""

    data: SeriesData
    window: Any  # lamina.timeseries.WindowSpec
    scaler: Any  # lamina.timeseries.SeriesScaler, fitted on the training period
    exogenous_scaler: Any
    inputs: torch.Tensor
    targets: torch.Tensor
    time: np.ndarray  # index of each window's first target
    train: np.ndarray  # boolean masks over the windows
    test: np.ndarray


# the window's exogenous inputs: csv_series' alone (exogenous_lags = None there means `lags`)
_EXOGENOUS = ("exogenous_lags", "delay")


class SeriesDatasetSpec(spec_base(WindowSpec, DatasetSpec, exclude=_EXOGENOUS)):  # type: ignore[misc]  # spec_base's base
    """Options shared by the series datasets. ``horizon``, ``spacing`` and ``layout`` are :class:`WindowSpec`'s,
    with its defaults and bounds (``lags`` too, with a default here: 12); the exogenous lags and their delay are
    csv_series'.

    Args:
        lags: taps of the delay line (the window length).
        horizon: values predicted per window.
        spacing: time steps between taps.
        layout: ``"flat"`` (one vector, for ``tdnn``/``narx``/``dense``) or ``"sequence"`` (``(lags, features)``,
            for ``elman``/``lstm``/``gru``).
        scale: ``standard``, ``minmax`` or ``none``, fitted on the training period.
        validation, split_seed: windows held out of the training period (the last ones unless seeded).
    """

    reference_variance: ClassVar[float | None] = None  # a published normaliser for comparable NMSE figures
    _prepared: PreparedSeries | None = PrivateAttr(default=None)

    lags: count() = 12
    scale: choice("standard", "minmax", "none") = "standard"

    def series(self) -> SeriesData:
        """The raw series and its periods."""
        raise NotImplementedError(f"{type(self).__name__} must define series()")

    def _exogenous_window(self) -> tuple[int, int]:
        return 0, 1

    @property
    def window(self) -> Any:
        """The :class:`~lamina.timeseries.WindowSpec` the windows are cut with (for forecasting)."""
        exogenous_lags, delay = self._exogenous_window()
        try:
            return WindowSpec(self.lags, self.horizon, self.spacing, exogenous_lags, delay, self.layout)
        except ValueError as err:
            raise DataError(f"data.{self.registered_name}: {err}") from None

    def prepare(self) -> PreparedSeries:
        """Read, scale and window the series (once; later calls return the same object)."""
        if self._prepared is not None:
            return self._prepared

        data, window = self.series(), self.window
        name = self.registered_name
        values = as_series(data.values, f"{name} series")
        exogenous = None if data.exogenous is None else as_exogenous(data.exogenous, f"{name} exogenous inputs")
        if data.train_end < window.min_length:
            raise DataError(
                f"{name}: the training period holds {data.train_end} values, too few for "
                f"{window.describe()}: it must hold at least {window.min_length}"
            )
        scaler = SeriesScaler(self.scale).fit(values[: data.train_end])
        exo_scaler = None if exogenous is None else SeriesScaler(self.scale).fit(exogenous[: data.train_end])
        w = make_windows(
            scaler.transform(values),
            window.lags,
            window.horizon,
            exogenous=None if exogenous is None else exo_scaler.transform(exogenous),
            exogenous_lags=window.exogenous_lags if exogenous is not None else None,
            delay=window.delay,
            spacing=window.spacing,
            layout=window.layout,
        )
        first, last = w.time.numpy(), w.time.numpy() + window.horizon - 1  # first and last target of each window
        train = last < data.train_end
        test = (first >= data.test[0]) & (last < data.test[1])
        self._prepared = PreparedSeries(data, window, scaler, exo_scaler, w.inputs, w.targets, first, train, test)
        return self._prepared

    def load(self) -> Splits:
        """The prepared windows as splits: training (less the validation hold-out), validation, and test (``None``
        when no window's targets lie in the test period)."""
        p = self.prepare()
        name = self.registered_name
        train = ArrayDataset(p.inputs[p.train], p.targets[p.train], name=name)
        train, val = hold_out(train, self.validation, self.split_seed)
        test = ArrayDataset(p.inputs[p.test], p.targets[p.test], name=name) if p.test.any() else None
        return Splits(train, val, test)

    def report_run(self, model: torch.nn.Module, folder: Path) -> dict[str, Any]:
        """Forecast figures for a trained run: test one-step NMSE/NRMSE/MAE in the series' units, a closed-loop
        forecast over the test period, and ``folder/forecast.png``."""
        p = self.prepare()
        data, (start, stop) = p.data, p.data.test
        if not p.test.any():
            return {}
        param = next(iter(model.parameters()), None)
        with torch.no_grad():
            was = model.training
            model.eval()
            device = param.device if param is not None else "cpu"
            scaled = torch.cat(
                [model(p.inputs[i : i + 4096].to(device)).float().cpu() for i in range(0, len(p.inputs), 4096)]
            )
            model.train(was)
        predicted = p.scaler.inverse_transform(scaled[:, 0].double().numpy())  # the first predicted value
        actual = data.values[p.time]
        test = p.test
        result = {
            "test_nmse": nmse(predicted[test], actual[test]),
            "test_nrmse": nmse(predicted[test], actual[test]) ** 0.5,
            "test_mae": mae(predicted[test], actual[test]),
        }
        if self.reference_variance is not None:
            result["test_arv_reference_variance"] = nmse(
                predicted[test], actual[test], variance=self.reference_variance
            )
        steps = stop - start
        exo = (
            {}
            if data.exogenous is None
            else {"exogenous": data.exogenous[:start], "future_exogenous": data.exogenous[start:stop]}
        )
        closed = forecast(
            model,
            data.values[:start],
            steps,
            window=p.window,
            scaler=p.scaler,
            exogenous_scaler=p.exogenous_scaler,
            **exo,
        )
        result["closed_loop_steps"] = steps
        result["closed_loop_nrmse"] = nmse(closed, data.values[start:stop]) ** 0.5
        one_step = p.train | p.test
        boundaries = {"train | test": (data.time[data.train_end - 1] + data.time[start]) / 2}
        if start != data.train_end:
            boundaries = {"end of training": data.time[data.train_end - 1], "test starts": data.time[start]}
        plot_forecast(
            data.time[:stop],
            data.values[:stop],
            {
                "one-step predictions": (data.time[p.time[one_step]], predicted[one_step]),
                f"closed-loop forecast ({steps} steps)": (data.time[start:stop], closed),
            },
            boundaries=boundaries,
            title=f"{self.registered_name}: forecast vs actual (test NMSE {result['test_nmse']:.3g}, one-step)",
            xlabel=data.time_label,
            ylabel=data.value_label,
            path=Path(folder) / "forecast.png",
        )
        return {"forecast": result}


_SUNSPOT_PERIODS = {"1921-1955": (1921, 1955), "1956-1979": (1956, 1979), "1980-2008": (1980, 2008)}


@register("dataset", "sunspots")
class Sunspots(SeriesDatasetSpec):
    """Yearly sunspot numbers 1700-2008 in lag windows, split as Weigend, Huberman & Rumelhart (1990). The numbers
    are the Wolfer/Zurich series as shipped by statsmodels; training targets 1700-1920, test 1921-1955
    (``test_period``) or 1956-1979.

    Args:
        test_period: ``"1921-1955"``, ``"1956-1979"``, or ``"1980-2008"`` (after the papers).
        lags, scale: 12 lags scaled into [0, 1] by default, as Weigend et al.'s 12-8-1 network.

    ``reference_variance = 1535`` is the normaliser of Weigend et al.'s published ARV figures (see
    ``benchmarks/results/timeseries.md``).
    """

    files = {"sunspots.csv": SUNSPOTS_FILE}
    reference_variance: ClassVar[float | None] = 1535.0

    lags: count() = 12
    scale: choice("standard", "minmax", "none") = "minmax"
    test_period: choice(*_SUNSPOT_PERIODS) = "1921-1955"

    def series(self) -> SeriesData:
        """The yearly numbers; training targets up to 1920, test targets in ``test_period``."""
        years, values = read_sunspots()
        first, last = _SUNSPOT_PERIODS[self.test_period]
        train_end = int(np.searchsorted(years, 1921))
        test = (int(np.searchsorted(years, first)), int(np.searchsorted(years, last, side="right")))
        return SeriesData(years, values, train_end, test, time_label="year", value_label="yearly sunspot number")


@register("dataset", "mackey_glass", aliases=("mackey-glass",))
class MackeyGlass(SeriesDatasetSpec):
    """The Mackey-Glass series (tau = 17), generated; lag windows. The first ``train_samples`` samples of
    :func:`lamina.data.series.mackey_glass` train, the next ``test_samples`` test.

    Args:
        train_samples, test_samples: lengths of the two periods.
        tau, a, b, power, dt, sample_every, discard, x0: the equation and its integration.
        history_seed: seeds a noisy initial history (``None``: constant ``x0``).
        lags, spacing: 4 taps 6 steps apart by default, as Lapedes & Farber (1987).
    """

    train_samples: count() = 1000
    test_samples: count() = 500
    tau: number(0, lo_open=True) = 17.0
    a: number() = 0.2
    b: number() = 0.1
    power: number() = 10.0
    dt: number(0, lo_open=True) = 0.1
    sample_every: number(0, lo_open=True) = 1.0
    discard: count(0) = 500
    x0: number() = 1.2
    history_seed: count(0) | None = None
    lags: count() = 4
    spacing: count() = 6

    def series(self) -> SeriesData:
        """The generated series: ``train_samples`` training values, then ``test_samples`` test values."""
        n = self.train_samples + self.test_samples
        try:
            values = mackey_glass(
                n,
                tau=self.tau,
                a=self.a,
                b=self.b,
                power=self.power,
                dt=self.dt,
                sample_every=self.sample_every,
                discard=self.discard,
                x0=self.x0,
                seed=self.history_seed,
            )
        except ValueError as err:
            raise DataError(f"data (mackey_glass): {err}") from None
        return SeriesData(
            np.arange(n) * self.sample_every,
            values,
            self.train_samples,
            (self.train_samples, n),
            time_label="time",
            value_label="x(t)",
        )


@register("dataset", "csv_series")
class CSVSeries(SeriesDatasetSpec):
    """A column of your own CSV file as a series, with optional exogenous columns; lag windows. The file needs a
    header line; the last ``test`` rows (a count or a fraction) are the test period.

    Args:
        path: the CSV file.
        column: the series to forecast.
        exogenous: columns of exogenous inputs (NARX).
        exogenous_lags: their lags (default: ``lags``).
        delay: 1 (the newest exogenous lag is ``u(t)``) or 0 (``u(t+1)``).
        time_column: a column of time labels for plots (default: the row number).
        test: the final rows held out for testing.
    """

    excluded_options: ClassVar[tuple[str, ...]] = ("exogenous_lags",)  # its None rule; `delay` is WindowSpec's

    path: str
    column: str
    exogenous: list[str] = []
    exogenous_lags: count() | None = None
    delay: count(0, 1) = 1
    time_column: str | None = None
    test: Holdout = 0.2

    def _exogenous_window(self) -> tuple[int, int]:
        if not self.exogenous:
            return 0, self.delay
        return (self.exogenous_lags or self.lags), self.delay

    def series(self) -> SeriesData:
        """The CSV's ``column`` (and ``exogenous`` columns); the last ``test`` rows are the test period.

        Raises:
            DataError: ``test`` leaves no training rows.
        """
        names = [self.column, *self.exogenous] + ([self.time_column] if self.time_column else [])
        columns = read_csv_columns(self.path, list(dict.fromkeys(names)))
        values = as_series(columns[self.column], f"{self.path}: column {self.column!r}")
        exo = None
        if self.exogenous:
            for name in self.exogenous:
                as_series(columns[name], f"{self.path}: column {name!r}")
            exo = as_exogenous(np.column_stack([columns[c] for c in self.exogenous]))
        n = len(values)
        k = round(self.test * n) if isinstance(self.test, float) else self.test
        if k >= n:
            raise DataError(f"{self.path}: test = {self.test} leaves no training rows (there are {n})")
        time = columns[self.time_column] if self.time_column else np.arange(n, dtype=np.float64)
        return SeriesData(
            time,
            values,
            n - k,
            (n - k, n),
            exogenous=exo,
            time_label=self.time_column or "row",
            value_label=self.column,
        )
