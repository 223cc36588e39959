"""Harness entries for the time-series layers (lamina.timeseries)."""

from __future__ import annotations

# name -> (options, input shape, expected output shape, expected parameters)
CASES: dict[str, tuple[dict, object, tuple, int]] = {
    # 12 lags -> 8 tanh -> 1: (12*8 + 8) + (8*1 + 1), Weigend's 12-8-1 network
    "tdnn": ({"hidden": [8]}, (12,), (1,), 12 * 8 + 8 + 8 + 1),
    # Elman: W (H x F) + U (H x H) + two biases (torch keeps b_ih and b_hh) + read-out (O x H + O)
    "elman": ({"units": 5, "outputs": 2, "bptt": 3}, (6, 2), (2,), 5 * 2 + 5 * 5 + 5 + 5 + 2 * 5 + 2),
    # NARX: 4 output lags + 3 exogenous lags x 2 features = 10 inputs -> 6 -> 1
    "narx": ({"output_lags": 4, "exogenous_lags": 3, "hidden": [6]}, (10,), (1,), 10 * 6 + 6 + 6 + 1),
}
