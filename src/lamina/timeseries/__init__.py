"""Time-series networks and tools: lag windows, the TDNN, Elman and NARX forecasters, closed-loop forecasting,
NMSE/NRMSE, Weigend's weight elimination (fixed or adaptive lambda), blocked K-fold cross-validation with gaps, and the
forecast plot.

>>> from lamina.timeseries import TDNN, make_windows, forecast, nmse
>>> w = make_windows(series, lags=12)
>>> model = TDNN(lags=12, hidden=(8,))          # train it on (w.inputs, w.targets) with lamina.Trainer
>>> forecast(model, series, steps=84)          # closed-loop, 84 steps after the series

Registered for experiment files: the layers ``tdnn``, ``elman``, ``narx``, the metrics ``nmse`` (alias ``arv``) and
``nrmse``, the callback ``weight_elimination``, the datasets ``sunspots``, ``mackey_glass`` and ``csv_series``
(:mod:`lamina.timeseries.datasets`: they cut lag windows, so they live above the windows, not in :mod:`lamina.data`).
"""

from typing import TYPE_CHECKING

from lamina._moved import moved_attribute
from lamina.timeseries.cross_validation import BlockedKFold
from lamina.timeseries.datasets import SeriesDatasetSpec  # registers sunspots, mackey_glass, csv_series
from lamina.timeseries.elman import Elman, ElmanSpec
from lamina.timeseries.forecast import exogenous_rows_needed, forecast
from lamina.metrics.forecasting import NMSE, NRMSE, mae, nmse, nrmse
from lamina.timeseries.narx import NARX, NARXSpec
from lamina.timeseries.plots import plot_forecast
from lamina.timeseries.scaling import SeriesScaler
from lamina.timeseries.tdnn import TDNN, TDNNSpec, mlp
from lamina.timeseries.weight_elimination import (
    WeightElimination,
    WeightEliminationLoss,
    adapt_strength,
    weight_elimination,
)
from lamina.timeseries.windows import Windows, WindowSpec, make_windows

if not TYPE_CHECKING:  # lamina.timeseries.metrics for one release (lamina._moved)

    def __getattr__(name: str):
        return moved_attribute(__name__, name)


__all__ = [
    "BlockedKFold",
    "Elman",
    "ElmanSpec",
    "NARX",
    "NARXSpec",
    "NMSE",
    "NRMSE",
    "SeriesDatasetSpec",
    "SeriesScaler",
    "TDNN",
    "TDNNSpec",
    "WindowSpec",
    "WeightElimination",
    "WeightEliminationLoss",
    "Windows",
    "adapt_strength",
    "exogenous_rows_needed",
    "forecast",
    "mae",
    "make_windows",
    "mlp",
    "nmse",
    "nrmse",
    "plot_forecast",
    "weight_elimination",
]
