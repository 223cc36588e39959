"""Tiny Shakespeare: char-rnn's 95/5 split, next-character windows, the vocabulary and its errors."""

from __future__ import annotations

import pytest
import torch

import lamina
from lamina.data.text import CharVocabulary, char_windows
from lamina.errors import ConfigError, DataError
from tests.conftest import _has

needs_shakespeare = pytest.mark.skipif(
    not _has(["tinyshakespeare/input.txt"]), reason="tinyshakespeare/input.txt not found in $LAMINA_DATA"
)


def test_char_windows_are_shifted_by_one():
    ids = torch.arange(10)
    x, y = char_windows(ids, seq_length=3, stride=3)
    assert x.tolist() == [[0, 1, 2], [3, 4, 5], [6, 7, 8]] and y.tolist() == [[1, 2, 3], [4, 5, 6], [7, 8, 9]]
    x, y = char_windows(ids, seq_length=4, stride=2)
    assert x.tolist() == [[0, 1, 2, 3], [2, 3, 4, 5], [4, 5, 6, 7]] and y[-1].tolist() == [5, 6, 7, 8]
    assert char_windows(ids, seq_length=10, stride=1)[0].shape == (0, 10)


def test_vocabulary_round_trip_and_unknown_character():
    vocab = CharVocabulary.of("hello world")
    assert vocab.chars == " dehlorw" and vocab.decode(vocab.encode("hold")) == "hold"
    with pytest.raises(
        DataError,
        match=r"character 'z' \(position 2 of 'hoz'\) is not in the vocabulary of 8 "
        r"characters: ' dehlorw'",
    ):
        vocab.encode("hoz")


@needs_shakespeare
def test_tinyshakespeare_split_like_char_rnn():
    spec = lamina.data.spec("tinyshakespeare")
    train, val, test = spec.load()
    n = 1115394
    n_val = round(0.05 * n)  # char-rnn: 95% train, 5% validation, no test
    assert test is None
    assert len(train) == (n - n_val - 101) // 100 + 1 and len(val) == (n_val - 101) // 100 + 1
    vocab = spec.vocabulary()
    assert len(vocab) == 65 and train.classes == list(vocab.chars)
    assert vocab.decode(train.x[0]).startswith("First Citizen:")
    assert torch.equal(train.x[0, 1:], train.y[0, :-1]) and torch.equal(train.y[0, -1:], train.x[1, :1])
    text = spec.text()
    assert vocab.decode(val.x[0]) == text[n - n_val : n - n_val + 100]  # validation follows the training text


@needs_shakespeare
def test_max_chars_and_test_split():
    train, val, test = lamina.data.load("tinyshakespeare", max_chars=10000, seq_length=20, validation=1000, test=0.1)
    assert len(train) == (8000 - 21) // 20 + 1 and len(val) == (1000 - 21) // 20 + 1 and len(test) == 49


def test_split_seed_is_refused():
    with pytest.raises(ConfigError, match=r"data.split_seed: a text is split into contiguous parts"):
        lamina.data.spec("tinyshakespeare", split_seed=3)


def test_digit_pairs_targets():
    train, val, test = lamina.data.load("digit_pairs", validation=100, pairs_per_image=2)
    digits = lamina.data.load("digits", validation=100)
    assert len(train) == 2 * len(digits.train) and len(test) == 2 * len(digits.test)
    (a, b), (digit, greater) = train.inputs, train.targets
    n = len(digits.train)
    assert torch.equal(a[:n], digits.train.x) and torch.equal(digit[:n], digits.train.y)
    # the partner's label, read back from the image, decides `greater`
    lookup = {img.numpy().tobytes(): int(label) for img, label in zip(digits.train.x, digits.train.y)}
    partner = torch.tensor([lookup[img.numpy().tobytes()] for img in b])
    assert torch.equal(greater, (digit > partner).float())
