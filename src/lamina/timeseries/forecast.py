"""Multi-step forecasts from a trained window model: closed-loop (each prediction fed back as the newest lag, the
*parallel* configuration) or open-loop (the measured values fed back, giving one-step-ahead predictions along a
known series: the *series-parallel* configuration).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch
from torch import nn

from lamina.errors import DataError
from lamina.timeseries.scaling import SeriesScaler
from lamina.timeseries.windows import WindowSpec, as_exogenous, as_series

__all__ = ["forecast", "exogenous_rows_needed"]


def exogenous_rows_needed(window: WindowSpec, steps: int) -> int:
    """Future exogenous rows a ``steps``-step forecast reads: ``steps - delay`` for one value per model call (the
    last call, predicting ``y(T+steps-1)``, reads ``u`` up to ``T + steps - 1 - delay``)."""
    if not window.exogenous_lags:
        return 0
    calls = -(-steps // window.horizon)
    return max((calls - 1) * window.horizon + 1 - window.delay, 0)


def _model_window(model: nn.Module, window: WindowSpec | None) -> WindowSpec:
    if window is not None:
        return window
    own = getattr(model, "window", None)
    if isinstance(own, WindowSpec):
        return own
    raise ValueError(
        f"{type(model).__name__} does not say how its inputs are windowed; pass "
        "`window=WindowSpec(lags=..., ...)` (a dataset's `window` property gives the one it trained on)"
    )


def _stack(values: Any, what: str, exogenous: bool) -> tuple[np.ndarray, bool]:
    """``(B, T)`` for series or ``(B, T, F)`` for exogenous inputs, and whether a batch was given (one unbatched
    series becomes B = 1; a series of shape ``(T, 1)`` is one series)."""
    array = np.asarray(values.detach().cpu().numpy() if isinstance(values, torch.Tensor) else values, dtype=np.float64)
    batched = array.ndim == 3 if exogenous else (array.ndim == 2 and array.shape[1] != 1)
    check = as_exogenous if exogenous else as_series
    if batched:
        return np.stack([check(row, f"{what}[{i}]") for i, row in enumerate(array)]), True
    return check(array, what)[None], False


@torch.no_grad()
def forecast(
    model: nn.Module,
    history: Any,
    steps: int,
    closed_loop: bool = True,
    *,
    actual: Any = None,
    exogenous: Any = None,
    future_exogenous: Any = None,
    window: WindowSpec | None = None,
    scaler: SeriesScaler | None = None,
    exogenous_scaler: SeriesScaler | None = None,
) -> np.ndarray:
    """Forecast the ``steps`` values after ``history``.

    Each model call predicts ``window.horizon`` values; closed-loop, they are appended to the history and the next
    window is cut from it (predictions feed the delay line); open-loop, the measured values ``actual`` are appended
    instead, so every prediction is made from true lags (for a horizon of 1: one-step-ahead predictions).

    Args:
        model: a window model (:class:`TDNN`, :class:`Elman`, :class:`NARX`, or any module with a ``window``
            given here), trained on windows cut the same way.
        history: the observed series ``y(0..T-1)``, shape ``(T,)``, or ``(B, T)`` for B forecasts at once.
        steps: values to forecast, ``y(T), ..., y(T+steps-1)``.
        closed_loop: feed predictions back (True) or the measured ``actual`` values (False).
        actual: the measured ``y(T..T+steps-1)`` (open-loop only).
        exogenous: ``u(0..T-1)`` aligned with ``history``, ``(T,)`` or ``(T, F)`` (or batched), if the model has
            exogenous lags.
        future_exogenous: the exogenous inputs from time ``T`` on; at least :func:`exogenous_rows_needed` rows.
        window: how the model's inputs are cut (default: ``model.window``).
        scaler, exogenous_scaler: the scalers fitted on the training data: inputs are scaled with them and the
            forecast is returned in the series' own units.

    Returns:
        float64 array ``(steps,)``, or ``(B, steps)`` for a batch of histories.

    Raises:
        DataError: NaNs, a history shorter than the delay line (saying how long it must be), missing or too few
            exogenous inputs (saying how many rows are needed), or too few ``actual`` values.
    """
    if isinstance(steps, bool) or not isinstance(steps, int) or steps < 1:
        raise ValueError(f"`steps` must be a positive integer, got {steps!r}")
    spec = _model_window(model, window)
    y, batched = _stack(history, "history", exogenous=False)
    batch, length = y.shape
    if length < spec.first + 1:
        raise DataError(
            f"a history of {length} values is too short for {spec.describe()}: forecasting needs at "
            f"least {spec.first + 1} past values"
        )
    truth = None
    if not closed_loop:
        if actual is None:
            raise ValueError(
                "an open-loop forecast feeds back the measured values: pass `actual`, the series after "
                "`history` (or use closed_loop=True)"
            )
        truth = _stack(actual, "actual", exogenous=False)[0]
        if truth.shape[1] < steps:
            raise DataError(f"an open-loop forecast of {steps} steps needs {steps} actual values, got {truth.shape[1]}")
        truth = np.broadcast_to(truth[:, :steps], (batch, steps))
    u = None
    if spec.exogenous_lags:
        need = exogenous_rows_needed(spec, steps)
        if exogenous is None or (need and future_exogenous is None):
            raise DataError(
                f"the model reads {spec.exogenous_lags} exogenous lags: pass `exogenous` (aligned with the "
                f"history) and `future_exogenous` ({need} rows for {steps} steps with delay={spec.delay})"
            )
        past = _stack(exogenous, "exogenous", exogenous=True)[0]
        if past.shape[1] != length:
            raise DataError(
                f"`exogenous` has {past.shape[1]} time steps and the history {length}; they must be aligned"
            )
        future = _stack(future_exogenous, "future_exogenous", exogenous=True)[0] if need else past[:, :0]
        if future.shape[1] < need:
            raise DataError(
                f"a forecast of {steps} steps with delay={spec.delay} reads the exogenous inputs of the "
                f"next {need} time steps, but `future_exogenous` has {future.shape[1]} rows"
                + (
                    f"; forecast at most {future.shape[1] + spec.delay} steps or give more rows"
                    if spec.horizon == 1
                    else ""
                )
            )
        features = past.shape[2]
        u = np.concatenate(
            [
                np.broadcast_to(past, (batch, length, features)),  # one u for a batch of histories
                np.broadcast_to(future[:, :need], (batch, need, features)),
            ],
            axis=1,
        )
        if exogenous_scaler is not None:
            u = exogenous_scaler.transform(u)
    if scaler is not None:
        y = scaler.transform(y)
        truth = scaler.transform(truth) if truth is not None else None

    param = next(iter(model.parameters()), None)
    device = param.device if param is not None else torch.device("cpu")
    dtype = param.dtype if param is not None and param.is_floating_point() else torch.float32
    was_training = model.training
    model.eval()
    try:
        series = np.concatenate([y, np.zeros((batch, steps))], axis=1)
        out = np.empty((batch, steps))
        for start in range(0, steps, spec.horizon):
            t = length - 1 + start  # last observed index of this window
            y_idx, u_idx = spec.indices(np.array([t]))
            x = series[:, y_idx[0]]  # (B, lags)
            if spec.exogenous_lags:
                u_part = u[:, u_idx[0]]  # (B, exo, F)
                x = (
                    np.concatenate([x[:, :, None], u_part], axis=2)
                    if spec.layout == "sequence"
                    else np.concatenate([x, u_part.reshape(batch, -1)], axis=1)
                )
            elif spec.layout == "sequence":
                x = x[:, :, None]
            pred = model(torch.as_tensor(x, dtype=dtype, device=device)).reshape(batch, -1)
            pred = pred.double().cpu().numpy()
            take = min(spec.horizon, steps - start)
            out[:, start : start + take] = pred[:, :take]
            series[:, length + start : length + start + take] = (
                pred[:, :take] if closed_loop else truth[:, start : start + take]
            )
    finally:
        model.train(was_training)
    if scaler is not None:
        out = scaler.inverse_transform(out)
    return out if batched else out[0]
