"""MNIST strings: images of ``length`` MNIST digits side by side, read column by column as a sequence, with the
digit string as the target, for sequence transcription with CTC (the stand-in for TIMIT, which is licensed, in
Graves, Mohamed & Hinton's 2013 setting).

How the strings are made, deterministically from ``seed``:

- the digit images come from three disjoint pools: the first ``60000 - validation_digits`` MNIST training images
  make the training strings, the last ``validation_digits`` the validation strings, and the MNIST test images the
  test strings, so no digit image is in two splits;
- each string picks ``length`` images of its pool uniformly at random (``numpy.random.default_rng([seed, part])``)
  and puts them side by side, ``28 x 28 * length`` pixels;
- an example is the image's columns in order, ``(28 * length, 28)`` (steps, pixels of the column), or the image
  ``(1, 28, 28 * length)`` with ``layout = "image"``; its target is the ``length`` digit labels, int64.
"""

from __future__ import annotations

from typing import Annotated, ClassVar

import numpy as np
import torch

from lamina.config.component import Bounds, spec_base, validated
from lamina.config.fields import choice
from lamina.data.dataset import ArrayDataset, DatasetSpec, Splits
from lamina.data.idx import read_idx
from lamina.data.sources import fetch
from lamina.data.vision import MNIST_FILES
from lamina.errors import DataError
from lamina.registry import register

__all__ = ["DigitStrings", "MNISTStrings", "compose_strings", "digit_pools", "to_columns"]

SIDE = 28
MNIST_TRAIN = 60_000


def digit_pools(validation_digits: int) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """The three disjoint pools of MNIST digits, ``{"train", "validation", "test"} -> (images uint8 (K, 28, 28),
    labels int64 (K,))``: the training images but the last ``validation_digits``, those last ones, the test images."""
    if not 0 <= validation_digits < MNIST_TRAIN:
        raise DataError(f"mnist_strings: validation_digits must be in 0..{MNIST_TRAIN - 1}, got {validation_digits}")
    x_train = read_idx(fetch(MNIST_FILES["train-images-idx3-ubyte.gz"]), expected_magic=2051)
    y_train = read_idx(fetch(MNIST_FILES["train-labels-idx1-ubyte.gz"]), expected_magic=2049).astype(np.int64)
    x_test = read_idx(fetch(MNIST_FILES["t10k-images-idx3-ubyte.gz"]), expected_magic=2051)
    y_test = read_idx(fetch(MNIST_FILES["t10k-labels-idx1-ubyte.gz"]), expected_magic=2049).astype(np.int64)
    cut = MNIST_TRAIN - validation_digits
    return {
        "train": (x_train[:cut], y_train[:cut]),
        "validation": (x_train[cut:], y_train[cut:]),
        "test": (x_test, y_test),
    }


def compose_strings(
    images: np.ndarray, labels: np.ndarray, n: int, length: int, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray]:
    """``n`` strings of ``length`` digits drawn uniformly from a pool.

    Returns:
        ``(pictures, targets)``: uint8 ``(n, 28, 28 * length)`` and int64 ``(n, length)``.
    """
    index = rng.integers(0, len(images), size=(n, length))
    pictures = images[index]  # (n, length, 28, 28)
    pictures = pictures.transpose(0, 2, 1, 3).reshape(n, SIDE, SIDE * length)  # digits side by side
    return np.ascontiguousarray(pictures), labels[index]


def to_columns(pictures: torch.Tensor) -> torch.Tensor:
    """Images ``(N, H, W)`` as sequences of their columns ``(N, W, H)``: step ``t`` is column ``t``."""
    return pictures.transpose(1, 2).contiguous()


class DigitStrings:
    """The strings behind ``mnist_strings``: ``length``-digit strings drawn from three disjoint pools of MNIST images
    (see :mod:`lamina.data.mnist_strings`), the same for the same ``seed``.

    Args:
        seed: which strings are drawn.
        length: digits per string.
        train_strings, validation_strings, test_strings: strings in each split (``validation_strings = 0``: no
            validation).
        validation_digits: the last MNIST training images, kept for the validation strings.
    """

    @validated
    def __init__(
        self,
        seed: Annotated[int, Bounds(ge=0)] = 0,
        length: Annotated[int, Bounds(ge=1)] = 5,
        train_strings: Annotated[int, Bounds(ge=1)] = 50_000,
        validation_strings: Annotated[int, Bounds(ge=0)] = 5_000,
        test_strings: Annotated[int, Bounds(ge=1)] = 10_000,
        validation_digits: Annotated[int, Bounds(ge=0, le=MNIST_TRAIN - 1)] = 10_000,
    ) -> None:
        if validation_strings > 0 and validation_digits == 0:
            raise DataError("mnist_strings: validation_strings > 0 needs validation_digits > 0 to draw them from")
        self.seed, self.length, self.validation_digits = seed, length, validation_digits
        self.sizes = {"train": train_strings, "validation": validation_strings, "test": test_strings}

    def arrays(self) -> dict[str, tuple[np.ndarray, np.ndarray]]:
        """``{split: (pictures uint8 (n, 28, 28 * length), targets int64 (n, length))}``, for the splits of
        positive size; split ``k`` (train 0, validation 1, test 2) from ``default_rng([seed, k])``."""
        pools = digit_pools(self.validation_digits)
        out = {}
        for part, name in enumerate(("train", "validation", "test")):
            if self.sizes[name] > 0:
                rng = np.random.default_rng([self.seed, part])
                out[name] = compose_strings(*pools[name], self.sizes[name], self.length, rng)
        return out


@register("dataset", "mnist_strings")
class MNISTStrings(spec_base(DigitStrings, DatasetSpec)):  # type: ignore[misc]  # a base made by spec_base
    """Strings of ``length`` MNIST digits read column by column, for CTC transcription: examples
    ``(28 * length, 28)`` in [0, 1], targets the ``length`` digits (see :mod:`lamina.data.mnist_strings`). Train,
    validation and test strings are made from disjoint MNIST images (train split, its last ``validation_digits``
    images, test split); the same ``seed`` gives the same strings everywhere. ``seed``, ``length``, the counts and
    ``validation_digits``: :class:`DigitStrings`'s.

    Args:
        layout: ``sequence`` (columns as steps, ``(W, 28)``) or ``image`` (``(1, 28, W)``).
    """

    classes: ClassVar[list[str]] = [str(d) for d in range(10)]

    layout: choice("sequence", "image") = "sequence"

    def known_train_examples(self) -> int | None:
        """The validation strings come from their own digits, not from the training strings: nothing is held out."""
        return None

    def arrays(self) -> dict[str, tuple[np.ndarray, np.ndarray]]:
        """:meth:`DigitStrings.arrays` for these options."""
        return DigitStrings(**self.options()).arrays()

    def load(self) -> Splits:
        """Draw the strings and scale the pixels to [0, 1]."""
        parts = {}
        for name, (pictures, targets) in self.arrays().items():
            x = torch.from_numpy(pictures).float() / 255.0
            x = to_columns(x) if self.layout == "sequence" else x.unsqueeze(1)
            parts[name] = ArrayDataset(x, torch.from_numpy(targets), classes=self.classes, name="mnist_strings")
        return Splits(parts["train"], parts.get("validation"), parts["test"])
