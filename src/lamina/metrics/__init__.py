"""Metrics by name (``[train] metrics = ["accuracy", "nmse"]``), accumulated over an epoch on the training device:
the :class:`Metric` protocol and the standard metrics (:mod:`.standard`: accuracy, top-k accuracy, MSE, MAE) and the
forecast errors (:mod:`.forecasting`: NMSE, NRMSE, MAE, as functions too) and the CTC transcription errors
(:mod:`.transcription`). The multi-label subset accuracy lives with
its loss (:mod:`lamina.losses.multi_label`). Each registers under the ``metric`` kind.
"""

from lamina.metrics.standard import (
    Accuracy,
    Mean,
    MeanAbsoluteError,
    MeanSquaredError,
    Metric,
    MetricSpec,
    TopKAccuracy,
    load_metric_state,
    metric_state,
)
from lamina.metrics.forecasting import NMSE, NRMSE, mae, nmse, nrmse
from lamina.metrics.transcription import CTCCharacterError, CTCSequenceError, edit_distance

__all__ = [
    "CTCCharacterError",
    "CTCSequenceError",
    "Accuracy",
    "Mean",
    "MeanAbsoluteError",
    "MeanSquaredError",
    "Metric",
    "MetricSpec",
    "NMSE",
    "NRMSE",
    "TopKAccuracy",
    "edit_distance",
    "load_metric_state",
    "metric_state",
    "mae",
    "nmse",
    "nrmse",
]
