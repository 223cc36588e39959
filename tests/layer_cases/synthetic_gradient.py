"""Harness entry for the synthetic-gradient block of issue #27 (see tests/helpers.py)."""

from __future__ import annotations

# name -> (options, input shape, expected output shape, expected parameters)
CASES: dict[str, tuple[dict, object, tuple, int]] = {
    # the block dense(5 -> 4) and the linear predictor (4 -> 4); a random predictor, so one step moves the block too
    "synthetic_gradient": (
        {"layers": [{"type": "dense", "units": 4, "activation": "tanh"}], "zero_init": False},
        (5,),
        (4,),
        5 * 4 + 4 + 4 * 4 + 4,
    ),
}
