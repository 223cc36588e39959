"""Harness entries for the factorized dense layers of issue #27 (see tests/helpers.py)."""

from __future__ import annotations

# name -> (options, input shape, expected output shape, expected parameters)
CASES: dict[str, tuple[dict, object, tuple, int]] = {
    # U (5 x 2) and V (2 x 7), with 5 biases
    "low_rank_dense": ({"units": 5, "rank": 2, "activation": "tanh"}, (7,), (5,), 5 * 2 + 2 * 7 + 5),
    # cores (1, 2, 3, 3) and (3, 4, 2, 1), with 6 biases
    "tt_dense": ({"in_modes": [2, 4], "out_modes": [3, 2], "ranks": 3}, (8,), (6,), 1 * 2 * 3 * 3 + 3 * 4 * 2 * 1 + 6),
}
