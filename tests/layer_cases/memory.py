"""Harness entries for the memory layers (see tests/helpers.py)."""

from __future__ import annotations

# name -> (options, input shape, expected output shape, expected parameters)
CASES: dict[str, tuple[dict, object, tuple, int]] = {
    # W_Q (in x hidden, no bias) + stored patterns K (P x hidden) + values V (P x units)
    "hopfield_attention": ({"units": 3, "num_patterns": 7, "hidden": 4, "steps": 2}, (5,), (3,), 5 * 4 + 7 * 4 + 7 * 3),
}
