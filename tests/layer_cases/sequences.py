"""Harness entries for the sequence-transcription layers of issue #27 (see tests/helpers.py)."""

from __future__ import annotations

# name -> (options, input shape, expected output shape, expected parameters)
CASES: dict[str, tuple[dict, object, tuple, int]] = {
    # W_ih (16 x 3), W_hh (16 x 2: the projection feeds back), two biases of 16, W_hr (2 x 4)
    "lstmp": ({"units": 4, "projection": 2}, (6, 3), (6, 2), 4 * 4 * 3 + 4 * 4 * 2 + 4 * 4 + 4 * 4 + 2 * 4),
    # the wrapped LSTM's: W_ih (12 x 3), W_hh (12 x 3), two biases of 12
    "masked": ({"layer": {"type": "lstm", "units": 3}}, (6, 3), (3,), 4 * 3 * 3 + 4 * 3 * 3 + 4 * 3 + 4 * 3),
}
