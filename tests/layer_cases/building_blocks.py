"""Harness entries for the building blocks of issue #10 (see tests/helpers.py)."""

from __future__ import annotations

_LSTM = lambda f, h: 4 * (h * f + h * h + 2 * h)  # noqa: E731  four gates: W_ih, W_hh and two biases each

# name -> (options, input shape (a list of shapes for merge layers), expected output shape, expected parameters)
CASES: dict[str, tuple[dict, object, tuple, int]] = {
    # conv-BN-ReLU-conv-BN, 4 -> 4 channels, no conv biases (BN follows): 2 * (4*4*9) + 2 * (2*4)
    "residual": ({"filters": 4}, (4, 8, 8), (4, 8, 8), 2 * 4 * 4 * 9 + 2 * 2 * 4),
    # GoogLeNet widths 2/2,3/1,2/2: each conv k*k*in*out + out biases
    "inception": (
        {
            "conv1x1": 2,
            "reduce3x3": 2,
            "conv3x3": 3,
            "reduce5x5": 1,
            "conv5x5": 2,
            "pool_proj": 2,
            "activation": "tanh",
        },  # tanh: no unit can die in a one-step test
        (3, 8, 8),
        (2 + 3 + 2 + 2, 8, 8),
        (3 * 2 + 2) + (3 * 2 + 2) + (9 * 2 * 3 + 3) + (3 * 1 + 1) + (25 * 1 * 2 + 2) + (3 * 2 + 2),
    ),
    # transform and gate: two 5x5 matrices with biases
    "highway": ({}, (5,), (5,), 2 * (5 * 5 + 5)),
    # 3 units x 4 pieces of a 5-input affine map
    "maxout": ({"units": 3, "pieces": 4}, (5,), (3,), 5 * 12 + 12),
    "dropconnect": ({"units": 3, "p": 0.5, "activation": "tanh"}, (5,), (3,), 5 * 3 + 3),
    "drop_path": ({"p": 0.05}, (5,), (5,), 0),
    "alpha_dropout": ({"p": 0.1}, (5,), (5,), 0),
    "instancenorm": ({}, (3, 5, 5), (3, 5, 5), 2 * 3),
    "im2col_conv2d": ({"filters": 4, "kernel_size": 3, "padding": 1, "stride": 2}, (2, 9, 9), (4, 5, 5), 4 * 2 * 9 + 4),
    "dot_product_attention": ({}, [(6, 4), (7, 4), (7, 3)], (6, 3), 0),
    # W (3 -> 5) with bias, U (4 -> 5) without, v (5)
    "additive_attention": ({"units": 5}, [(3,), (6, 4)], (4,), (3 * 5 + 5) + 4 * 5 + 5),
    # Q, K, V projections (4 -> 12) and the output projection (4 -> 4), with biases
    "self_attention": ({"heads": 2, "causal": True}, (6, 4), (6, 4), (4 * 12 + 12) + (4 * 4 + 4)),
    # two independent LSTMs of 3 units on 4 features
    "bidirectional": (
        {"layer": {"type": "lstm", "units": 3, "return_sequences": True}},
        (6, 4),
        (6, 6),
        2 * _LSTM(4, 3),
    ),
    # LSTM(4 -> 3), then two LSTM(3 -> 3)
    "stacked_rnn": (
        {"layer": {"type": "lstm", "units": 3}, "num_layers": 3, "dropout": 0.1, "residual": True},
        (6, 4),
        (3,),
        _LSTM(4, 3) + 2 * _LSTM(3, 3),
    ),
    "time_distributed": ({"layer": {"type": "dense", "units": 7}}, (6, 4), (6, 7), 4 * 7 + 7),
}
