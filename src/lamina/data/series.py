"""Time series: the Mackey-Glass delay differential equation (Mackey & Glass, 1977).

``dx/dt = a x(t - tau) / (1 + x(t - tau)^power) - b x(t)``, chaotic for ``tau = 17`` with ``a = 0.2``, ``b = 0.1``,
``power = 10`` (the benchmark of Lapedes & Farber, 1987, and of the time-series literature since).
"""
from __future__ import annotations

import numpy as np

__all__ = ["mackey_glass"]


def mackey_glass(n: int, *, tau: float = 17.0, a: float = 0.2, b: float = 0.1, power: float = 10.0, dt: float = 0.1,
                 sample_every: float = 1.0, discard: int = 500, x0: float = 1.2, seed: int | None = None) -> np.ndarray:
    """``n`` samples of the Mackey-Glass series, one every ``sample_every`` time units.

    Integrated with the classical fourth-order Runge-Kutta method at step ``dt`` (``tau / dt`` and
    ``sample_every / dt`` must be whole numbers); the delayed value at a half step is the mean of its neighbours on
    the grid. The history on ``[-tau, 0]`` is the constant ``x0``, or, with a ``seed``, ``x0`` plus uniform noise in
    ``[-0.1, 0.1]`` at each grid point. The first ``discard`` samples (the transient) are dropped.

    Returns:
        float64 array of shape ``(n,)``.
    """
    if n < 1 or dt <= 0 or tau <= 0 or discard < 0:
        raise ValueError(f"need n >= 1, dt > 0, tau > 0 and discard >= 0, got n={n}, dt={dt}, tau={tau}, discard={discard}")
    delay, stride = round(tau / dt), round(sample_every / dt)
    if abs(delay * dt - tau) > 1e-9 or abs(stride * dt - sample_every) > 1e-9 or stride < 1:
        raise ValueError(f"tau ({tau}) and sample_every ({sample_every}) must be whole multiples of dt ({dt})")
    steps = (n + discard) * stride
    x = np.empty(delay + steps + 1)
    if seed is None:
        x[: delay + 1] = x0
    else:
        x[: delay + 1] = x0 + np.random.default_rng(seed).uniform(-0.1, 0.1, delay + 1)

    def _f(now: float, lagged: float) -> float:
        return a * lagged / (1.0 + lagged ** power) - b * now

    for i in range(delay, delay + steps):
        lag0, lag1 = x[i - delay], x[i - delay + 1]
        lag_half = 0.5 * (lag0 + lag1)
        xi = x[i]
        k1 = _f(xi, lag0)
        k2 = _f(xi + 0.5 * dt * k1, lag_half)
        k3 = _f(xi + 0.5 * dt * k2, lag_half)
        k4 = _f(xi + dt * k3, lag1)
        x[i + 1] = xi + dt / 6.0 * (k1 + 2 * k2 + 2 * k3 + k4)
    samples = x[delay::stride]  # t = 0, sample_every, 2 sample_every, ...
    return samples[discard: discard + n].copy()
