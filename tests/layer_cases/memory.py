"""Harness entries for the memory layers (see tests/helpers.py)."""

from __future__ import annotations

# name -> (options, input shape, expected output shape, expected parameters)
CASES: dict[str, tuple[dict, object, tuple, int]] = {
    # W_Q (in x hidden, no bias) + stored patterns K (P x hidden) + values V (P x units)
    "hopfield_attention": ({"units": 3, "num_patterns": 7, "hidden": 4, "steps": 2}, (5,), (3,), 5 * 4 + 7 * 4 + 7 * 3),
    # NTM: LSTMCell(3 + W, H) 4H(3 + W + H) + 8H; read head H x (W + 3 + 3) + bias; write head the same with 2W more;
    # output (H + W) x units + units; r_0 (W) and the two first weightings' logits (N each); W = 3, H = 4, N = 6
    "ntm": (
        {"units": 2, "memory_slots": 6, "memory_width": 3, "controller_units": 4},
        (4, 3),
        (4, 2),
        4 * 4 * (3 + 3 + 4) + 8 * 4 + (4 * 9 + 9) + (4 * 15 + 15) + (7 * 2 + 2) + 3 + 2 * 6,
    ),
}
