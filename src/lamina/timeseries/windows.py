"""Lag windows: the (input, target) pairs a forecaster learns from, cut from a series and its exogenous inputs.

With ``t`` the last observed time of a window, the target is ``y(t+1), ..., y(t+horizon)`` and the inputs are

- the tapped delay line of the series: ``y(t - (lags-1) s), ..., y(t - s), y(t)`` (``s`` = ``spacing``, oldest first),
- the exogenous lags: ``u(t+1-delay-(exogenous_lags-1)), ..., u(t+1-delay)`` (consecutive, oldest first): with
  ``delay = 1`` (the default, as in sysidentpy and MATLAB's ``narxnet``) the newest is ``u(t)``; with ``delay = 0``
  the input at the predicted time, ``u(t+1)``, is used too (a control applied at that step, a known calendar value).

``layout = "flat"`` puts them in one vector ``[y lags, u lags]`` (a u lag's features together) for an MLP (TDNN,
NARX); ``layout = "sequence"`` gives ``(lags, 1 + exogenous features)`` rows ``[y(tau), u(tau+1-delay)]`` for a
recurrent network (Elman, LSTM, GRU).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Any, NamedTuple

import numpy as np
import torch

from lamina.config.component import Bounds, Choices, validated
from lamina.errors import DataError

__all__ = ["WindowSpec", "Windows", "make_windows", "as_series", "as_exogenous"]


@dataclass(frozen=True, init=False)
class WindowSpec:
    """How a series is cut into model inputs (see the module docstring for the exact alignment).

    Args:
        lags: taps of the series' delay line.
        horizon: future values predicted at once.
        spacing: time steps between taps (Lapedes & Farber, 1987, used 4 taps 6 steps apart on Mackey-Glass).
        exogenous_lags: consecutive lags of the exogenous inputs (0: none).
        delay: 1 to end the exogenous lags at ``u(t)``, 0 to include ``u(t+1)``.
        layout: ``"flat"`` (one vector) or ``"sequence"`` (``(lags, features)`` rows).
    """

    lags: int
    horizon: int
    spacing: int
    exogenous_lags: int
    delay: int
    layout: str

    @validated
    def __init__(
        self,
        lags: Annotated[int, Bounds(ge=1)],
        horizon: Annotated[int, Bounds(ge=1)] = 1,
        spacing: Annotated[int, Bounds(ge=1)] = 1,
        exogenous_lags: Annotated[int, Bounds(ge=0)] = 0,
        delay: Annotated[int, Bounds(ge=0, le=1)] = 1,
        layout: Annotated[str, Choices("flat", "sequence")] = "flat",
    ) -> None:
        for name, value in (
            ("lags", lags),
            ("horizon", horizon),
            ("spacing", spacing),
            ("exogenous_lags", exogenous_lags),
            ("delay", delay),
            ("layout", layout),
        ):
            object.__setattr__(self, name, value)  # a frozen dataclass
        side_by_side = exogenous_lags == lags and spacing == 1
        if layout == "sequence" and exogenous_lags and not side_by_side:
            raise ValueError(
                f"the sequence layout puts y and u side by side, so it needs exogenous_lags == lags and "
                f"spacing == 1, got lags={lags}, exogenous_lags={exogenous_lags}, spacing={spacing}"
            )

    @property
    def first(self) -> int:
        """The earliest ``t`` (last observed index) a window can have: its oldest input is at index 0 or later."""
        return max((self.lags - 1) * self.spacing, self.exogenous_lags + self.delay - 2, 0)

    @property
    def min_length(self) -> int:
        """The shortest series that yields one window: the delay line's span plus the horizon."""
        return self.first + 1 + self.horizon

    def describe(self) -> str:
        """The options, for messages: ``lags=12, horizon=1``, with the others only when they are not the default."""
        parts = [f"lags={self.lags}", f"horizon={self.horizon}"]
        parts += [f"spacing={self.spacing}"] if self.spacing != 1 else []
        parts += [f"exogenous_lags={self.exogenous_lags}", f"delay={self.delay}"] if self.exogenous_lags else []
        return ", ".join(parts)

    def indices(self, t: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Series and exogenous indices of the inputs for last-observed times ``t`` (``(N, lags)``, ``(N, exo)``)."""
        t = np.asarray(t)[:, None]
        y_idx = t - np.arange(self.lags - 1, -1, -1) * self.spacing
        u_idx = t + 1 - self.delay - np.arange(self.exogenous_lags - 1, -1, -1)
        return y_idx, u_idx

    def inputs(self, y: np.ndarray, u: np.ndarray | None, t: np.ndarray) -> np.ndarray:
        """The model inputs for last-observed times ``t``: ``(N, lags + exo * features)`` (flat) or
        ``(N, lags, 1 + features)`` (sequence)."""
        y_idx, u_idx = self.indices(t)
        y_part = y[y_idx]  # (N, lags)
        if not self.exogenous_lags:
            return y_part[:, :, None] if self.layout == "sequence" else y_part
        u_part = u[u_idx]  # (N, exo, features)
        if self.layout == "sequence":
            return np.concatenate([y_part[:, :, None], u_part], axis=2)
        return np.concatenate([y_part, u_part.reshape(len(u_part), -1)], axis=1)


class Windows(NamedTuple):
    """Windows cut from a series.

    Attributes:
        inputs: ``(N, lags + exogenous_lags * features)`` (flat) or ``(N, lags, 1 + features)`` (sequence).
        targets: ``(N, horizon)``: ``y(t+1), ..., y(t+horizon)``.
        time: ``(N,)`` the index of each window's first target, ``t + 1``.
        spec: the :class:`WindowSpec` used.
    """

    inputs: torch.Tensor
    targets: torch.Tensor
    time: torch.Tensor
    spec: WindowSpec


def _as_array(values: Any, what: str) -> np.ndarray:
    try:
        array = np.asarray(
            values.detach().cpu().numpy() if isinstance(values, torch.Tensor) else values, dtype=np.float64
        )
    except (TypeError, ValueError):
        raise DataError(f"{what}: expected numbers, got {type(values).__name__}") from None
    return array


def _check_finite(array: np.ndarray, what: str) -> None:
    bad = np.flatnonzero(~np.isfinite(array.reshape(len(array), -1)).all(axis=1))
    if len(bad):
        shown = ", ".join(map(str, bad[:5])) + (", ..." if len(bad) > 5 else "")
        raise DataError(
            f"{what} holds {len(bad)} NaN or infinite value(s), at index {shown}; fill or drop them before windowing"
        )


def as_series(series: Any, what: str = "series") -> np.ndarray:
    """``series`` as a finite float64 vector ``(T,)`` (a ``(T, 1)`` column is accepted); else a :class:`DataError`."""
    array = _as_array(series, what)
    if array.ndim == 2 and array.shape[1] == 1:
        array = array[:, 0]
    if array.ndim != 1:
        raise DataError(
            f"{what}: expected one value per time step, shape (T,), got shape {array.shape}; "
            "pass further variables as `exogenous`"
        )
    _check_finite(array, what)
    return array


def as_exogenous(exogenous: Any, what: str = "exogenous") -> np.ndarray:
    """Exogenous inputs as a finite float64 matrix ``(T, features)`` (a vector is one feature)."""
    array = _as_array(exogenous, what)
    if array.ndim == 1:
        array = array[:, None]
    if array.ndim != 2:
        raise DataError(f"{what}: expected shape (T,) or (T, features), got shape {array.shape}")
    _check_finite(array, what)
    return array


def make_windows(
    series: Any,
    lags: int,
    horizon: int = 1,
    *,
    exogenous: Any = None,
    exogenous_lags: int | None = None,
    delay: int = 1,
    spacing: int = 1,
    layout: str = "flat",
    dtype: torch.dtype = torch.float32,
) -> Windows:
    """Every (inputs, targets) window of a series, in time order.

    Args:
        series: the values ``y(0), ..., y(T-1)``: array, tensor or list, shape ``(T,)``.
        lags: taps of the delay line.
        horizon: future values per target.
        exogenous: inputs ``u`` of shape ``(T,)`` or ``(T, features)``, aligned with ``series``.
        exogenous_lags: lags of ``u`` (default: ``lags`` when ``exogenous`` is given).
        delay, spacing, layout: see :class:`WindowSpec`.
        dtype: of the returned tensors.

    Returns:
        :class:`Windows`; there are ``T - horizon - first`` of them (``first = (lags - 1) * spacing`` without
        exogenous inputs).

    Raises:
        DataError: NaN or infinite values (with their indices), mismatched lengths, or a series shorter than
            ``spec.min_length`` (the message says how long it must be).

    Example:
        >>> w = make_windows([0, 1, 2, 3, 4], lags=2)
        >>> w.inputs.tolist(), w.targets.tolist()
        ([[0.0, 1.0], [1.0, 2.0], [2.0, 3.0]], [[2.0], [3.0], [4.0]])
    """
    y = as_series(series)
    u = None if exogenous is None else as_exogenous(exogenous)
    if exogenous_lags is None:
        exogenous_lags = lags if u is not None else 0
    if exogenous_lags and u is None:
        raise DataError(f"exogenous_lags={exogenous_lags} but no exogenous inputs were given")
    if u is not None and not exogenous_lags:
        raise DataError("exogenous inputs were given with exogenous_lags=0; give the number of their lags")
    spec = WindowSpec(lags, horizon, spacing, exogenous_lags, delay, layout)
    if u is not None and len(u) != len(y):
        raise DataError(f"the exogenous inputs have {len(u)} time steps and the series {len(y)}; they must be aligned")
    if len(y) < spec.min_length:
        raise DataError(
            f"a series of {len(y)} values is too short for {spec.describe()}: it must hold at least "
            f"{spec.min_length} values ({spec.first + 1} for the delay line, {horizon} to predict)"
        )
    t = np.arange(spec.first, len(y) - horizon)
    inputs = spec.inputs(y, u, t)
    targets = y[t[:, None] + 1 + np.arange(horizon)]
    return Windows(
        torch.as_tensor(inputs, dtype=dtype), torch.as_tensor(targets, dtype=dtype), torch.as_tensor(t + 1), spec
    )
