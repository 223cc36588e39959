"""Harness entries for the layers the GAN part of issue #27 adds (see tests/helpers.py)."""

from __future__ import annotations

# name -> (options, input shape, expected output shape, expected parameters)
CASES: dict[str, tuple[dict, object, tuple, int]] = {
    # DCGAN's upsampling: kernel 4, stride 2, padding 1 doubles 3x3 to 6x6; weight (3 in, 2 out, 4, 4) and 2 biases
    "conv_transpose2d": (
        {"filters": 2, "kernel_size": 4, "stride": 2, "padding": 1},
        (3, 3, 3),
        (2, 6, 6),
        3 * 2 * 16 + 2,
    ),
}
