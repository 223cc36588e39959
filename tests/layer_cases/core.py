"""Harness entries for the core layers (see tests/helpers.py)."""

from __future__ import annotations

# name -> (options, input shape (a list of shapes for merge layers), expected output shape, expected parameters)
CASES: dict[str, tuple[dict, object, tuple, int]] = {
    "dense": ({"units": 5, "activation": "relu"}, (4,), (5,), 4 * 5 + 5),
    "conv1d": ({"filters": 3, "kernel_size": 3}, (2, 10), (3, 8), 2 * 3 * 3 + 3),
    "conv2d": ({"filters": 4, "kernel_size": 3, "padding": 1, "stride": 2}, (2, 9, 9), (4, 5, 5), 2 * 4 * 9 + 4),
    "max_pool1d": ({"kernel_size": 2}, (3, 8), (3, 4), 0),
    "max_pool2d": ({"kernel_size": 2}, (3, 8, 8), (3, 4, 4), 0),
    "avg_pool1d": ({"kernel_size": 3, "stride": 1}, (3, 8), (3, 6), 0),
    "avg_pool2d": ({"kernel_size": 2}, (3, 7, 7), (3, 3, 3), 0),
    "global_avg_pool": ({}, (3, 5, 5), (3,), 0),
    "flatten": ({}, (2, 3, 4), (24,), 0),
    "reshape": ({"shape": [2, -1]}, (12,), (2, 6), 0),
    "dropout": ({"p": 0.3}, (5,), (5,), 0),
    "batchnorm": ({}, (4, 6, 6), (4, 6, 6), 2 * 4),
    "layernorm": ({}, (6,), (6,), 2 * 6),
    "embedding": ({"num_embeddings": 10, "embedding_dim": 4}, (7,), (7, 4), 40),
    # RNN: W_ih (H x F) + W_hh (H x H) + two biases (H each)
    "rnn": ({"units": 5}, (6, 3), (5,), 5 * 3 + 5 * 5 + 5 + 5),
    # LSTM: four gates of the RNN's parameters
    "lstm": ({"units": 4, "return_sequences": True}, (6, 3), (6, 4), 4 * (4 * 3 + 4 * 4 + 4 + 4)),
    # GRU: three gates, two directions
    "gru": ({"units": 4, "bidirectional": True}, (6, 3), (8,), 2 * 3 * (4 * 3 + 4 * 4 + 4 + 4)),
    "concat": ({}, [(3,), (5,)], (8,), 0),
    "add": ({}, [(4,), (4,)], (4,), 0),
    "multiply": ({}, [(4,), (4,)], (4,), 0),
    "average": ({}, [(4,), (4,), (4,)], (4,), 0),
}
for _act in (
    "relu",
    "leaky_relu",
    "sigmoid",
    "tanh",
    "softmax",
    "log_softmax",
    "selu",
    "elu",
    "gelu",
    "softplus",
    "identity",
    "hardtanh",
    "softsign",
    "scaled_tanh",
    "threshold",
):
    CASES[_act] = ({}, (5,), (5,), 0)

NO_GRADIENT = {"threshold"}  # the perceptron's step function has zero gradient everywhere
